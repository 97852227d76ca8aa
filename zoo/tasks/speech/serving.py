"""The serving signatures of a speech export: 16-bit PCM WAV bytes (decoded and resampled inside
the graph) or float waveforms at the model's rate in, transcripts out.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from zoo.data.wav import decode_wav_in_graph
from zoo.tasks.speech.augmentation import resample_in_graph
from zoo.tasks.speech.predictor import SpeechRecognizer


class SpeechServing:
    """The serving functions of a `SpeechRecognizer`.

    serving_default: {"wav": string[batch]} (PCM WAV files of 8 to 32 bits or float, any
                     rate, mono or not) -> {"transcript": string[batch], "log_prob":
                     float32[batch], "speech": bool[batch] (false: no speech, empty transcript),
                     "confident": bool[batch] (false: no speech, or below the run's
                     calibrated threshold of log-probability per character)}
    waveform:        {"audio": float32[batch, samples] in [-1, 1] at the model's rate,
                      "audio_length": int32[batch]} -> the same outputs
    """

    def __init__(self, recognizer: SpeechRecognizer):
        self.recognizer = recognizer

    def archive(self) -> keras.export.ExportArchive:
        archive = keras.export.ExportArchive()
        archive.track(self.recognizer.model)
        archive.add_endpoint(
            "serving_default", self.serve, input_signature=[tf.TensorSpec([None], tf.string)]
        )
        archive.add_endpoint(
            "waveform",
            self.serve_waveform,
            input_signature=[
                tf.TensorSpec([None, None], tf.float32, name="audio"),
                tf.TensorSpec([None], tf.int32, name="audio_length"),
            ],
        )
        return archive

    def serve(self, wav):
        rate = self.recognizer.pipeline.sample_rate

        def decode(contents):
            mono, file_rate = decode_wav_in_graph(contents)  # any width the library reads

            def resampled():
                # The library keeps resampled audio as 16-bit samples: the same rounding here.
                out = resample_in_graph(mono, file_rate, rate) * 32768.0
                return tf.clip_by_value(tf.round(out), -32768.0, 32767.0) / 32768.0

            return tf.cond(tf.equal(file_rate, rate), lambda: mono, resampled)

        waveforms = tf.map_fn(
            decode, wav, fn_output_signature=tf.RaggedTensorSpec([None], tf.float32)
        )
        lengths = tf.cast(waveforms.row_lengths(), tf.int32)
        audio = waveforms.to_tensor()
        audio = tf.pad(audio, [[0, 0], [0, 1]])  # an all-empty batch keeps one sample
        return self.serve_waveform(audio, lengths)

    def serve_waveform(self, audio, audio_length):
        out = self.recognizer.run(audio, audio_length, with_alignment=False)
        return {key: out[key] for key in ("transcript", "log_prob", "speech", "confident")}
