"""Data-parallel training on several devices and machines, with the engines Keras already has.

    mirrored      TensorFlow: `tf.distribute.MirroredStrategy` over the local GPUs, or over N
                  logical CPU devices when asked (`devices="cpu:N"`);
                  JAX: `keras.distribution.DataParallel` over the local devices
    multi-worker  TensorFlow: `tf.distribute.MultiWorkerMirroredStrategy`, the cluster read from
                  the standard `TF_CONFIG` environment variable

`batch_size` stays the global batch: each of R replicas computes the gradient of
`batch_size / R` examples and the replicas sum them, so the optimizer sees the same step as on
one device. Devices and the cluster must be set up before the backend runs its first
operation, so `configure` comes first in a process (`zoo train` does that).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
from collections.abc import Iterator
from typing import Any

import keras

MODES = ("mirrored", "multi-worker")
_ADDRESS = re.compile(r"^[^\s:]+:\d{1,5}$")


class WorkerLostError(RuntimeError):
    """A worker of a multi-worker cluster died or became unreachable mid-training."""


@dataclasses.dataclass(frozen=True)
class Distribution:
    """How a process trains: alone, or as one of several replicas.

    Attributes:
        mode: `None` (one device), `"mirrored"` or `"multi-worker"`.
        replicas: Replicas that share each global batch (all workers together).
        is_chief: Whether this process writes the run directory (always, except the
            non-chief workers of a multi-worker cluster).
        worker: This process's index among the workers (0 unless multi-worker).
        engine: The `tf.distribute.Strategy` or `keras.distribution.Distribution` behind it.
        addresses: Every worker's `host:port`, by index (multi-worker only).
    """

    mode: str | None = None
    replicas: int = 1
    is_chief: bool = True
    worker: int = 0
    engine: Any = None
    addresses: tuple[str, ...] = ()

    @contextlib.contextmanager
    def lost_workers_named(self, run: Any) -> Iterator[None]:
        """Turns the collective-operation errors a dead or unreachable worker causes (e.g.
        `UnavailableError: Collective ops is aborted by: Socket closed`) into one message that
        says which worker and that rerunning every worker's command resumes `run`."""
        if self.mode != "multi-worker":
            yield
            return
        import tensorflow as tf

        lost = (tf.errors.UnavailableError, tf.errors.AbortedError, tf.errors.CancelledError,
                tf.errors.DeadlineExceededError)  # fmt: skip
        try:
            yield
        except lost as error:
            others = [(i, a) for i, a in enumerate(self.addresses) if i != self.worker]
            named = [(i, a) for i, a in others if a in str(error.message)] or others
            who = " or ".join(f"worker {i} ({address})" for i, address in named)
            reason = (str(error.message).strip().splitlines() or [""])[0][:200]
            raise WorkerLostError(
                f"Lost {who}: it stopped answering during training ({reason}). Rerun the same "
                f"command on every worker: training resumes in {run} from its last finished "
                "epoch."
            ) from None

    def scope(self) -> contextlib.AbstractContextManager:
        """Where models are built and trained: their variables go to every replica."""
        return self.engine.scope() if self.engine is not None else contextlib.nullcontext()

    def describe(self) -> str:
        """E.g. `mirrored: 2 replica(s) (cpu:0, cpu:1)`."""
        if self.mode is None:
            return "one device"
        if hasattr(self.engine, "device_mesh"):  # keras.distribution (JAX)
            names = list(self.engine.device_mesh.devices.flat)
        else:  # tf.distribute
            names = list(self.engine.extended.worker_devices)
        text = f"{self.mode}: {self.replicas} replica(s) ({', '.join(map(str, names))})"
        if self.mode == "multi-worker":
            text += f", worker {self.worker}" + (" (chief)" if self.is_chief else "")
        return text

    def check_batch_size(self, batch_size: int) -> None:
        """Refuses a global batch that the replicas cannot share evenly."""
        if batch_size % self.replicas:
            raise ValueError(
                f"batch_size {batch_size} cannot be split evenly across {self.replicas} "
                f"replicas: set a multiple of {self.replicas} (the batch size is the global "
                f"batch; each replica computes batch_size / {self.replicas} examples)."
            )

    def prepare(self, dataset: Any) -> Any:
        """A batched `tf.data` dataset made ready for the replicas.

        Multi-worker: split by examples (the zoo's datasets are built in memory, so sharding by
        file, what `tf.distribute` tries first, cannot apply). JAX: batches the devices cannot
        share evenly (a short last batch) are skipped, as `keras.distribution` needs equal
        shards; TensorFlow's strategies share them unevenly instead.
        """
        if dataset is None or self.mode is None:
            return dataset
        import tensorflow as tf

        if self.mode == "multi-worker":
            options = tf.data.Options()
            policy = tf.data.experimental.AutoShardPolicy.DATA
            options.experimental_distribute.auto_shard_policy = policy
            return dataset.with_options(options)
        if keras.backend.backend() == "jax" and self.replicas > 1:
            replicas = self.replicas

            def shareable(*batch):
                rows = tf.shape(tf.nest.flatten(batch)[0])[0]
                return rows % replicas == 0

            return dataset.filter(shareable)
        return dataset

    def barrier(self) -> None:
        """Waits until every worker has reached this point (multi-worker only)."""
        if self.mode != "multi-worker":
            return
        import tensorflow as tf

        strategy = self.engine

        @tf.function  # the strategy warns when it runs eagerly
        def all_reduce():
            return strategy.reduce("SUM", strategy.run(lambda: tf.constant(1.0)), axis=None)

        all_reduce()


def configure(mode: str | None = None, devices: int | str | None = None) -> Distribution:
    """Sets up the devices (and the cluster) of `mode` on the current Keras backend.

    Args:
        mode: `None`, `"mirrored"` or `"multi-worker"`.
        devices: For `"mirrored"`: `None` for every local GPU (the CPU where there is none),
            an integer N for the first N GPUs, or `"cpu:N"` for N logical CPU devices (tests,
            laptops). Multi-worker training uses each worker's GPUs (or its CPU).

    Returns:
        The `Distribution` to build and train under.
    """
    if mode is None:
        if devices is not None:
            raise ValueError("`devices` needs a distribution mode: pass --distribute mirrored.")
        return Distribution()
    if mode not in MODES:
        raise ValueError(f"Unknown distribution {mode!r}: use one of {list(MODES)}.")
    backend = keras.backend.backend()
    if backend not in ("tensorflow", "jax"):
        raise ValueError(
            f"Distributed training runs on the TensorFlow or JAX backend, not {backend!r}: "
            "set KERAS_BACKEND=tensorflow (or jax)."
        )
    if mode == "multi-worker":
        if devices is not None:
            raise ValueError(
                "`devices` applies to --distribute mirrored; multi-worker training uses each "
                "worker's GPUs (or its CPU)."
            )
        if backend != "tensorflow":
            raise ValueError(
                "Multi-worker training needs the TensorFlow backend (KERAS_BACKEND=tensorflow); "
                "on JAX the zoo trains data-parallel over one machine's devices "
                "(--distribute mirrored)."
            )
        return _multi_worker(parse_tf_config(os.environ.get("TF_CONFIG")))
    kind, count = parse_devices(devices)
    if backend == "jax":
        return _jax_data_parallel(kind, count)
    return _tf_mirrored(kind, count)


def parse_devices(devices: int | str | None) -> tuple[str, int | None]:
    """`None` -> `("gpu", None)` (all); `2` or `"2"` -> `("gpu", 2)`; `"cpu:2"` -> `("cpu", 2)`."""
    if devices is None:
        return "gpu", None
    text = str(devices).strip().lower()
    kind, _, count = text.rpartition(":")
    kind = kind or "gpu"
    if kind not in ("cpu", "gpu") or not count.isdigit() or int(count) < 1:
        raise ValueError(
            f"Cannot read devices={devices!r}: give a number of GPUs (e.g. 2), or cpu:N for N "
            "logical CPU devices (e.g. cpu:2)."
        )
    return kind, int(count)


def parse_tf_config(text: str | None) -> dict:
    """The checked `TF_CONFIG` of a multi-worker cluster; a `ValueError` saying what is wrong."""
    example = (
        'e.g. TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
        '"task": {"type": "worker", "index": 0}}\''
    )
    if not text:
        raise ValueError(
            "Multi-worker training reads the cluster from the TF_CONFIG environment variable, "
            f"which is not set: {example} (index: this machine's place in the list)."
        )
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON ({error}): {example}.") from None
    if not isinstance(config, dict) or not isinstance(config.get("cluster"), dict):
        raise ValueError(f'TF_CONFIG needs a "cluster" object of address lists: {example}.')
    cluster, task = config["cluster"], config.get("task")
    unsupported = sorted(set(cluster) - {"chief", "worker"})
    if unsupported:
        raise ValueError(
            f"TF_CONFIG's cluster has {unsupported}: multi-worker mirrored training uses only "
            '"chief" (at most one) and "worker" tasks.'
        )
    for role, addresses in cluster.items():
        if (
            not isinstance(addresses, list)
            or not addresses
            or not all(isinstance(a, str) and _ADDRESS.match(a) for a in addresses)
        ):
            raise ValueError(
                f'TF_CONFIG cluster["{role}"] must be a non-empty list of "host:port" strings, '
                f"received {addresses!r}."
            )
    if len(cluster.get("chief", [])) > 1:
        raise ValueError('TF_CONFIG cluster["chief"] holds more than one address; use one.')
    if not isinstance(task, dict) or task.get("type") not in cluster:
        raise ValueError(
            f'TF_CONFIG needs "task": {{"type": one of {sorted(cluster)}, "index": N}} naming '
            f"this process, received {task!r}."
        )
    index = task.get("index", 0)
    size = len(cluster[task["type"]])
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < size:
        raise ValueError(
            f'TF_CONFIG task index {index!r} is not in the cluster\'s "{task["type"]}" list of '
            f"{size} address(es): use 0 to {size - 1}."
        )
    return config


def is_chief(config: dict) -> bool:
    """The chief writes the run: the "chief" task, or worker 0 when the cluster has none."""
    task = config["task"]
    if "chief" in config["cluster"]:
        return task["type"] == "chief"
    return task.get("index", 0) == 0


# -- engines ----------------------------------------------------------------------------------


def _tf_mirrored(kind: str, count: int | None) -> Distribution:
    import tensorflow as tf

    if kind == "cpu":
        names = _logical_cpus(count)
    else:
        gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
        if count is not None and count > len(gpus):
            raise ValueError(_too_many(count, len(gpus)))
        names = gpus[:count] if gpus else ["/cpu:0"]
        if not gpus:
            print(
                "No GPU found: mirrored training uses the CPU as one replica "
                "(--devices cpu:N splits it into N)."
            )
    # On CPU devices TensorFlow picks collective all-reduce, which fails on sparse (embedding)
    # gradients whose sizes differ between replicas; summing on one device takes any shape.
    on_cpu = all("CPU" in name.upper() for name in names)
    reduce = tf.distribute.ReductionToOneDevice() if on_cpu else None
    strategy = tf.distribute.MirroredStrategy(devices=names, cross_device_ops=reduce)
    return Distribution("mirrored", strategy.num_replicas_in_sync, engine=strategy)


def _logical_cpus(count: int) -> list[str]:
    """Names of `count` logical CPU devices, made now unless TensorFlow made them already."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    with contextlib.suppress(RuntimeError):  # TensorFlow has started: its devices are fixed
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        )
    names = [d.name for d in tf.config.list_logical_devices("CPU")]
    if len(names) < count:
        raise RuntimeError(
            f"TensorFlow already started with {len(names)} CPU device(s), so {count} cannot be "
            "made any more: configure the distribution first in a new process (before any "
            "TensorFlow operation runs)."
        )
    return names[:count]


def _jax_data_parallel(kind: str, count: int | None) -> Distribution:
    import jax

    if kind == "cpu":
        with contextlib.suppress(RuntimeError):  # JAX has started: its devices are fixed
            jax.config.update("jax_num_cpu_devices", count)
        available = jax.devices("cpu")
        if len(available) < count:
            raise RuntimeError(
                f"JAX already started with {len(available)} CPU device(s), so {count} cannot "
                "be made any more: configure the distribution first in a new process (or set "
                f"XLA_FLAGS=--xla_force_host_platform_device_count={count})."
            )
        chosen = available[:count]
    else:
        try:
            gpus = jax.devices("gpu")
        except RuntimeError:
            gpus = []
        if count is not None and count > len(gpus):
            raise ValueError(_too_many(count, len(gpus)))
        chosen = gpus[:count] if gpus else jax.devices("cpu")[:1]
        if not gpus:
            print(
                "No GPU found: data-parallel training uses the CPU as one replica "
                "(--devices cpu:N splits it into N)."
            )
    names = [f"{d.platform}:{d.id}" for d in chosen]
    engine = keras.distribution.DataParallel(devices=names)
    return Distribution("mirrored", len(names), engine=engine)


def _multi_worker(config: dict) -> Distribution:
    import tensorflow as tf

    class MultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
        """TensorFlow's strategy, with `reduce` made to accept what Keras 3's `fit` passes.

        Keras 3 reduces a nested batch and scalar losses with `axis=0`, which this strategy
        (unlike `MirroredStrategy`) rejects (keras-team/keras#20585); reducing leaf by leaf,
        and scalars over the replicas only, is what `MirroredStrategy` does.
        """

        def reduce(self, reduce_op, value, axis):
            def one(leaf):
                scalar = all(t.shape.rank == 0 for t in self.experimental_local_results(leaf))
                return super(MultiWorkerMirroredStrategy, self).reduce(
                    reduce_op, leaf, None if scalar else axis
                )

            return tf.nest.map_structure(one, value)

    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    try:
        strategy = MultiWorkerMirroredStrategy(cluster_resolver=resolver)
    except (RuntimeError, ValueError) as error:
        raise RuntimeError(
            f"Cannot join the cluster of TF_CONFIG: {error}. Configure the distribution first "
            "in a new process, before any TensorFlow operation runs."
        ) from None
    task = config["task"]
    workers = list(config["cluster"].get("chief", [])) + list(config["cluster"]["worker"])
    worker = workers.index(config["cluster"][task["type"]][task.get("index", 0)])
    return Distribution(
        "multi-worker",
        strategy.num_replicas_in_sync,
        is_chief=is_chief(config),
        worker=worker,
        engine=strategy,
        addresses=tuple(workers),
    )


def _too_many(asked: int, found: int) -> str:
    return (
        f"Asked for {asked} GPU(s), but this machine has {found}: use at most {found}, "
        "or cpu:N for N logical CPU devices."
    )


__all__ = [
    "MODES",
    "Distribution",
    "WorkerLostError",
    "configure",
    "parse_devices",
    "parse_tf_config",
]
