"""The registered entries of each model family (plain Python; see `zoo.models`)."""
