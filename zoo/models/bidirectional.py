"""`keras.layers.Bidirectional(LSTM)` built so that loading a saved model cannot mix up layers.

`keras.saving.load_model` runs inside Keras' `ObjectSharingScope`, which remembers every
object serialized during the load by its `id()`. `Bidirectional.__init__` serializes the
layer it wraps (and, without `backward_layer`, serializes it a second time, which records the
backward copy under that id). The zoo's models build their wrappers in `__init__`, so this
happens during every load; when the wrapped LSTM is a temporary that dies, a later temporary
can take its address, and the load hands back the earlier wrapper's layer instead of a new
one. A valid `model.keras` then failed to load with "Forward layer and backward layer should
have different `go_backwards` value" (once in five full test runs under heavy load).

Here the backward LSTM is given explicitly (no second serialization) and the temporary stays
alive as long as its wrapper, so no address is reused while a model loads.
"""

import weakref

import keras

_TEMPORARIES: "weakref.WeakKeyDictionary[keras.layers.Layer, keras.layers.Layer]" = (
    weakref.WeakKeyDictionary()
)


def bidirectional_lstm(
    units: int,
    *,
    name: str,
    dtype=None,
    lstm_name: str | None = None,
    lstm_dtype=None,
    **lstm_options,
) -> keras.layers.Bidirectional:
    """A `Bidirectional(LSTM(units, **lstm_options))` named `name`, safe to build in `__init__`.

    `dtype` is the wrapper's, `lstm_dtype` the LSTMs'. The backward LSTM is named
    `backward_<lstm name>`, as Keras names the copy it makes.
    """
    forward = keras.layers.LSTM(units, name=lstm_name, dtype=lstm_dtype, **lstm_options)
    backward = keras.layers.LSTM(units, go_backwards=True, name=f"backward_{forward.name}",
                                 dtype=lstm_dtype, **lstm_options)  # fmt: skip
    wrapper = keras.layers.Bidirectional(forward, backward_layer=backward, name=name, dtype=dtype)
    _TEMPORARIES[wrapper] = forward  # its id stays its own while the model is alive
    return wrapper
