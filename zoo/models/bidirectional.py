"""`keras.layers.Bidirectional(LSTM)` built so that loading a saved model cannot mix up layers.

`keras.saving.load_model` runs inside Keras' `ObjectSharingScope`, which remembers every
object serialized during the load by its `id()`. `Bidirectional.__init__` serializes the
layer it wraps twice (for its forward and its backward copy) and records the backward copy
under that layer's id. The zoo's models build their wrappers in `__init__`, so this happens
during every load; the wrapped LSTM is a temporary, and once the garbage collector frees it,
the next temporary can take its address and be handed the earlier wrapper's layer instead of
a copy of its own. A valid `model.keras` then failed to load with "Forward layer and backward
layer should have different `go_backwards` value" (once in five full test runs under load).

Keeping the temporary alive as long as its wrapper means no id is reused while a model loads;
the wrapper is otherwise Keras' own, so a seed gives the same weights as before.
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

    `dtype` is the wrapper's, `lstm_dtype` the LSTM's. Keras names the copies it makes
    `forward_<lstm name>` and `backward_<lstm name>`.
    """
    lstm = keras.layers.LSTM(units, name=lstm_name, dtype=lstm_dtype, **lstm_options)
    wrapper = keras.layers.Bidirectional(lstm, name=name, dtype=dtype)
    _TEMPORARIES[wrapper] = lstm  # its id stays its own while the model is alive
    return wrapper


def encoder_lstm(
    units: int, index: int, bidirectional: bool, go_backwards: bool, dtype=None
) -> keras.layers.Layer:
    """Layer `index` of an encoder: an LSTM (`encoder_lstm_{index}`, reading backwards with
    `go_backwards`) or its bidirectional wrapper (`encoder_bilstm_{index}`), returning the
    sequence and the final states."""
    options = {"return_sequences": True, "return_state": True}
    if go_backwards:
        options["go_backwards"] = True
    if bidirectional:
        return bidirectional_lstm(
            units,
            lstm_name=f"encoder_lstm_{index}",
            lstm_dtype=dtype,
            name=f"encoder_bilstm_{index}",
            dtype=dtype,
            **options,
        )
    return keras.layers.LSTM(units, name=f"encoder_lstm_{index}", dtype=dtype, **options)
