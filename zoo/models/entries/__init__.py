"""The registered entries of each model family, one module per family.

Plain Python: the registry reads them without Keras (`zoo list`, `zoo describe`); each builder
imports its Keras class when called. An entry's defaults are the one source of truth:
`zoo.get(NAME)`, calling the builder, `zoo train NAME` and the tuner's default point all build
the same model, and the model class itself has no defaults of its own for them.
"""
