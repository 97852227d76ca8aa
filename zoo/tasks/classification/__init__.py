"""The classification task; see `zoo.tasks` for what each module of the folder holds."""
