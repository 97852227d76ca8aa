"""Plain PyTorch models of the zoo's translation architectures, for the speed benchmarks.

`TorchSeq2Seq`: LSTM encoder-decoder; `attention` None or "general" (Luong), with input
feeding (an `nn.LSTMCell` loop) or without (one fused `nn.LSTM` over the target). Sizes are
the registry defaults of the translation entries.
"""

from __future__ import annotations

import torch
from torch import nn

EMBEDDING, UNITS, DROPOUT = 64, 128, 0.1  # the registry defaults of the translation entries


class TorchSeq2Seq(nn.Module):
    """LSTM encoder-decoder; `attention` None or "general" (Luong), with or without feeding."""

    def __init__(self, source_vocab, target_vocab, attention=None, input_feeding=False):
        super().__init__()
        self.attention, self.input_feeding = attention, input_feeding
        self.source_embedding = nn.Embedding(source_vocab, EMBEDDING, padding_idx=0)
        self.target_embedding = nn.Embedding(target_vocab, EMBEDDING)
        self.encoder = nn.LSTM(EMBEDDING, UNITS, batch_first=True)
        self.dropout = nn.Dropout(DROPOUT)
        feed = UNITS if input_feeding else 0
        if input_feeding:
            self.cell = nn.LSTMCell(EMBEDDING + feed, UNITS)
        else:
            self.decoder = nn.LSTM(EMBEDDING, UNITS, batch_first=True)
        if attention:
            self.kernel = nn.Linear(UNITS, UNITS, bias=False)  # general: (q W) k^T
            self.attentional = nn.Linear(2 * UNITS, UNITS, bias=False)
        self.output = nn.Linear(UNITS, target_vocab)

    def encode(self, source):
        lengths = (source != 0).sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            self.dropout(self.source_embedding(source)), lengths, True, enforce_sorted=False
        )
        outputs, (h, c) = self.encoder(packed)
        memory, _ = nn.utils.rnn.pad_packed_sequence(outputs, True, total_length=source.shape[1])
        return memory, source != 0, (h, c)

    def attend(self, query, memory, mask):  # query [B, T, U]
        scores = self.kernel(query) @ memory.transpose(1, 2)
        weights = torch.softmax(scores.masked_fill(~mask[:, None, :], -1e9), -1)
        return torch.tanh(self.attentional(torch.cat([weights @ memory, query], -1)))

    def forward(self, source, target_in):
        memory, mask, (h, c) = self.encode(source)
        embedded = self.dropout(self.target_embedding(target_in))
        if not self.input_feeding:
            outputs, _ = self.decoder(embedded, (h, c))
            if self.attention:
                outputs = self.attend(outputs, memory, mask)
            return self.output(self.dropout(outputs))
        h, c = h[0], c[0]
        feed = torch.zeros_like(h)
        outputs = []
        for t in range(embedded.shape[1]):
            h, c = self.cell(torch.cat([embedded[:, t], feed], -1), (h, c))
            feed = self.attend(h[:, None], memory, mask)[:, 0]
            outputs.append(feed)
        return self.output(self.dropout(torch.stack(outputs, 1)))

    @torch.no_grad()
    def greedy(self, source, steps):
        memory, mask, (h, c) = self.encode(source)
        token = torch.full((source.shape[0],), 2, dtype=torch.long, device=source.device)
        state = (h, c) if not self.input_feeding else (h[0], c[0])
        feed = torch.zeros(source.shape[0], UNITS, device=source.device)
        out = []
        for _ in range(steps):
            x = self.target_embedding(token)
            if self.input_feeding:
                state = self.cell(torch.cat([x, feed], -1), state)
                feed = self.attend(state[0][:, None], memory, mask)[:, 0]
                hidden = feed
            else:
                y, state = self.decoder(x[:, None], state)
                hidden = self.attend(y, memory, mask)[:, 0] if self.attention else y[:, 0]
            token = self.output(hidden).argmax(-1)
            out.append(token)
            if bool((torch.stack(out, 1) == 3).any(1).all()):
                break
        return torch.stack(out, 1)


def torch_train_step(model, optimizer, source, target_in, target_out):
    def step():
        optimizer.zero_grad()
        logits = model(source, target_in)
        loss = nn.functional.cross_entropy(logits.transpose(1, 2), target_out, ignore_index=0)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    return step
