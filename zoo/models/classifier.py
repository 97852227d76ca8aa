"""BiLSTM text classifiers: pooled states, attention pooling, structured self-attention.

One family class; the three registered entries differ in how the BiLSTM states become one
vector: max pooling over time (the baseline), one learned attention query (Zhou et al. 2016,
Yang et al. 2016), or `heads` attention hops with Lin et al.'s redundancy penalty (2017).
"""

import keras
from keras import ops

from zoo.layers import StructuredSelfAttention
from zoo.layers.base_attention import padding_mask
from zoo.models.bidirectional import bidirectional_lstm

POOLINGS = ("max", "attention")


@keras.saving.register_keras_serializable(package="lstm_zoo")
class TextClassifier(keras.Model):
    """Embedding -> stacked BiLSTM -> pooling -> MLP -> class logits.

    Args:
        vocab_size: Number of token ids (id 0 is padding).
        num_classes: Number of labels.
        embedding_dim: Size of the token embeddings.
        units: LSTM size of each direction.
        num_layers: Number of stacked BiLSTM layers.
        dropout: Dropout on embeddings, between layers and before the output layers.
        pooling: `"max"` (masked max over time) or `"attention"` (`StructuredSelfAttention`).
        attention_units: Hidden size `d_a` of the attention.
        heads: Attention hops `r` (1: attention pooling).
        penalty: Coefficient of `||A A^T - I||_F^2` (Lin et al. 2017).
        hidden_units: Size of the hidden layer of the output MLP.

    Call arguments:
        inputs: `int[batch, T]` token ids, 0-padded.

    Returns:
        Logits `[batch, num_classes]`.
    """

    def __init__(
        self,
        vocab_size,
        num_classes,
        embedding_dim,
        units,
        num_layers,
        dropout,
        pooling,
        attention_units,
        heads,
        penalty,
        hidden_units,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for arg, value in (
            ("vocab_size", vocab_size),
            ("embedding_dim", embedding_dim),
            ("units", units),
            ("num_layers", num_layers),
            ("hidden_units", hidden_units),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"`{arg}` must be a positive integer, received {arg}={value!r}.")
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(
                f"`num_classes` must be an integer >= 2, received num_classes={num_classes!r}."
            )
        if pooling not in POOLINGS:
            raise ValueError(f"`pooling` must be one of {POOLINGS}, received pooling={pooling!r}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1), received dropout={dropout!r}.")
        self.vocab_size = vocab_size
        self.num_classes = num_classes
        self.embedding_dim = embedding_dim
        self.units = units
        self.num_layers = num_layers
        self.dropout = float(dropout)
        self.pooling = pooling
        self.attention_units = attention_units
        self.heads = heads
        self.penalty = float(penalty)
        self.hidden_units = hidden_units

        # -- layers ------------------------------------------------------------------------
        self.embedding = keras.layers.Embedding(
            vocab_size, embedding_dim, mask_zero=True, name="embedding", dtype=self.dtype_policy
        )
        self.embedding_dropout = keras.layers.Dropout(
            dropout, name="embedding_dropout", dtype=self.dtype_policy
        )
        self.encoder_layers = [
            bidirectional_lstm(
                units,
                return_sequences=True,
                name=f"bilstm_{i}",
                dtype=self.dtype_policy,
                lstm_dtype=self.dtype_policy,
            )
            for i in range(num_layers)
        ]
        self.encoder_dropout = keras.layers.Dropout(
            dropout, name="encoder_dropout", dtype=self.dtype_policy
        )
        self.attention_layer = None
        if pooling == "attention":
            self.attention_layer = StructuredSelfAttention(
                attention_units,
                heads=heads,
                penalty=penalty,
                name="attention",
                dtype=self.dtype_policy,
            )
        self.hidden = keras.layers.Dense(
            hidden_units, activation="relu", name="hidden", dtype=self.dtype_policy
        )
        self.output_dropout = keras.layers.Dropout(
            dropout, name="output_dropout", dtype=self.dtype_policy
        )
        self.classifier = keras.layers.Dense(
            num_classes, name="classifier", dtype=self.dtype_policy
        )
        self.build()

    @property
    def attention(self):
        """The attention this model uses, as the registry names it (`None` for the baseline)."""
        if self.pooling != "attention":
            return None
        return "additive" if self.heads == 1 else "structured"

    def build(self, input_shape=None):
        if self.built:
            return
        self.embedding.build((None, None))
        features = self.embedding_dim
        for layer in self.encoder_layers:
            layer.build((None, None, features))
            features = 2 * self.units
        pooled = features
        if self.attention_layer is not None:
            self.attention_layer.build((None, None, features))
            pooled = self.heads * features
        self.hidden.build((None, pooled))
        self.classifier.build((None, self.hidden_units))
        self.built = True

    def encode(self, token_ids, training=False):
        """BiLSTM states `[batch, T, 2 * units]` and the padding mask `[batch, T]`."""
        mask = padding_mask(token_ids)
        return self.encode_embedded(self.embedding(token_ids), mask, training=training), mask

    def encode_embedded(self, embedded, mask, training=False):
        """BiLSTM states of given token embeddings (what gradient attributions vary)."""
        x = self.embedding_dropout(embedded, training=training)
        for i, layer in enumerate(self.encoder_layers):
            if i > 0:
                x = self.encoder_dropout(x, training=training)
            x = layer(x, mask=mask, training=training)
        return x

    def pool(self, states, mask):
        """One vector per example, and the attention weights `[batch, heads, T]` (or None)."""
        if self.attention_layer is None:
            hidden = ops.where(mask[:, :, None], states, ops.full_like(states, -1e9))
            pooled = ops.max(hidden, axis=1)
            # An empty text (all padding) pools to zeros rather than -1e9.
            return ops.where(ops.any(mask, axis=1, keepdims=True), pooled, 0.0), None
        pooled, weights = self.attention_layer(states, mask=mask, return_attention_scores=True)
        return ops.reshape(pooled, (-1, self.heads * states.shape[-1])), weights

    def classify(self, token_ids, training=False):
        """`(logits [batch, classes], attention weights [batch, heads, T] or None)`."""
        mask = padding_mask(token_ids)
        return self.classify_embedded(self.embedding(token_ids), mask, training=training)

    def classify_embedded(self, embedded, mask, training=False):
        """`classify` from token embeddings `[batch, T, embedding_dim]` and the padding mask."""
        states = self.encode_embedded(embedded, mask, training=training)
        pooled, weights = self.pool(states, mask)
        hidden = self.hidden(self.output_dropout(pooled, training=training))
        logits = self.classifier(self.output_dropout(hidden, training=training))
        return logits, weights

    def call(self, inputs, training=False):
        return self.classify(inputs, training=training)[0]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "num_classes": self.num_classes,
                "embedding_dim": self.embedding_dim,
                "units": self.units,
                "num_layers": self.num_layers,
                "dropout": self.dropout,
                "pooling": self.pooling,
                "attention_units": self.attention_units,
                "heads": self.heads,
                "penalty": self.penalty,
                "hidden_units": self.hidden_units,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
