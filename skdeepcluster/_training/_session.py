"""One fit around the shared loop: checkpoints and resume, interrupts, warm start, distributed.

:class:`FitCall` is one call of an estimator's ``fit`` or ``partial_fit``:
it validates the input, opens the :class:`FitSession` (RNGs, a new or
continued network) and finishes (history, the state a later call continues
from, the interrupt warning).

An estimator's ``_train`` may run the loop more than once (stages, e.g. a
self-labelling stage after the main one); each call of :meth:`FitSession.run`
is one stage, numbered in call order. Everything a stage needs to continue
exactly where it stopped is its module, optimiser, scheduler, task (the
assignment state, through ``task.state_dict()`` / ``task.load_state_dict()``),
the fit's generator and the global RNG state; the session captures these at
the end of every epoch.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from skdeepcluster._training._amp import resolve_amp
from skdeepcluster._training._checkpoint import (
    CHECKPOINT_FORMAT,
    check_checkpoint,
    data_digest,
    describe_params,
    load_checkpoint,
    plain,
    save_checkpoint,
)
from skdeepcluster._training._distributed import (
    DistributedContext,
    DistributedHook,
    current_context,
)
from skdeepcluster._training._hooks import Hook
from skdeepcluster._training._loop import run_training
from skdeepcluster._training._utils import make_generator, resolve_device, resolve_seed


def clone_state(state, device=None):
    """A copy of a nested state: tensors cloned (detached, moved to ``device`` if given)."""
    if isinstance(state, torch.Tensor):
        state = state.detach()
        return state.clone() if device is None else state.to(device, copy=True)
    if isinstance(state, dict):
        return {k: clone_state(v, device) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(clone_state(v, device) for v in state)
    return state


class _EpochEnd(Hook):
    """Calls ``callback(record)`` at the end of every epoch."""

    def __init__(self, callback) -> None:
        self.callback = callback

    def on_epoch_end(self, record: dict) -> None:
        self.callback(record)


class FitSession:
    """The state of one ``fit`` around :func:`~skdeepcluster._training.run_training`.

    Parameters
    ----------
    module : torch.nn.Module
        The estimator's ``module_``.
    generator : torch.Generator
        The fit's generator (batch order, augmentations, initialisation).
    device : torch.device
        The training device.
    signature : dict
        What identifies the fit (see :mod:`skdeepcluster._training._checkpoint`).
    checkpoint_dir : str, path or None, default=None
        Where checkpoints are written and resumed from.
    checkpoint_every : int, default=1
        Write a checkpoint every this many epochs (and after the last epoch of
        every stage).
    context : DistributedContext or None, default=None
        The process group, under :mod:`torch.distributed`.
    warm_states : list of dict or None, default=None
        Final task state of each stage of the previous fit, for a warm start.
    optimizer_states : list of dict or None, default=None
        Final optimiser and schedule state of each stage of the previous call,
        continued by ``partial_fit`` (a warm start restarts them).

    Attributes
    ----------
    restoring : bool
        Whether the fit continues from saved state (a checkpoint or a warm
        start), so that initialisation work before the loop can be skipped.
    interrupted : bool
        Whether a KeyboardInterrupt stopped the fit; the module and task of
        the interrupted stage then hold the state of the last completed epoch.
    """

    def __init__(
        self,
        module: nn.Module,
        generator: torch.Generator,
        device: torch.device,
        signature: dict,
        checkpoint_dir=None,
        checkpoint_every: int = 1,
        context: DistributedContext | None = None,
        warm_states: list | None = None,
        optimizer_states: list | None = None,
    ) -> None:
        self.module = module
        self.generator = generator
        self.device = torch.device(device)
        self.signature = signature
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = int(checkpoint_every)
        self.context = context
        self.warm_states = warm_states
        self.continued_optimizers = optimizer_states
        self.tasks: list = []
        self.optimizers: list = []
        self.completed: list[dict] = []
        self.interrupted = False
        self.saved = None
        #: The module's state when the first stage started (after its setup).
        self.start_module: dict | None = None
        if checkpoint_dir is not None:
            self.saved = load_checkpoint(checkpoint_dir)
            if self.saved is not None:
                check_checkpoint(self.saved, signature, checkpoint_dir)
            if context is not None:
                where = (
                    [-1, -1] if self.saved is None else [self.saved[k] for k in ("stage", "n_done")]
                )
                context.check_agree(where, "the checkpoint to resume from (stage, epochs done)")
        self.restoring = self.saved is not None or warm_states is not None
        self.progress = self.restoring
        #: Whether the call continues a network trained before it (set by :class:`FitCall`).
        self.continued = False

    def restores_next_stage(self) -> bool:
        """Whether the next stage :meth:`run` starts will take saved state (a
        checkpoint written during it or a later stage, or a warm start's or a
        stream's), so that the initialisation work before it can be skipped.

        A fit resumed during an earlier stage still initialises the later ones.
        """
        stage = len(self.tasks)
        if self.warm_states is not None:
            return stage < len(self.warm_states)
        if self.saved is not None:
            return self.saved["stage"] >= stage
        return self.continued

    @property
    def writes_checkpoints(self) -> bool:
        return self.checkpoint_dir is not None and (self.context is None or self.context.is_main)

    # -------------------------------------------------------------- states
    def _rng_state(self) -> dict:
        state = {"generator": self.generator.get_state(), "torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            state["cuda"] = torch.cuda.get_rng_state(self.device)
        return state

    def _set_rng_state(self, state: dict) -> None:
        self.generator.set_state(state["generator"].cpu())
        torch.set_rng_state(state["torch"].cpu())
        if self.device.type == "cuda" and "cuda" in state:
            torch.cuda.set_rng_state(state["cuda"].cpu(), self.device)

    def _capture(self, task, history: list) -> dict:
        """Copies of what the end of an epoch leaves: module, task, RNGs, history."""
        return {
            "module": clone_state(self.module.state_dict()),
            "task": clone_state(task.state_dict()),
            "rng": self._rng_state(),
            "history": list(history),
        }

    def _restore(self, snapshot: dict, task) -> None:
        self.module.load_state_dict(snapshot["module"])
        task.load_state_dict(snapshot["task"])
        self._set_rng_state(snapshot["rng"])

    def task_states(self) -> list:
        """Copies of the state of every stage's task on the CPU (for a later warm start)."""
        return [plain(clone_state(t.state_dict(), "cpu")) for t in self.tasks]

    def optimizer_states(self) -> list:
        """Copies of every stage's optimiser and schedule state on the CPU (for ``partial_fit``)."""
        return [
            {
                "optimizer": plain(clone_state(opt.state_dict(), "cpu")),
                "scheduler": None if sched is None else plain(clone_state(sched.state_dict())),
            }
            for opt, sched in self.optimizers
        ]

    def _continue_optimizer(self, stage: int, optimizer, scheduler) -> None:
        """Load the previous call's momentum (or moments) and step count into a stage's
        optimiser and schedule, keeping this call's hyper-parameters."""
        if self.continued_optimizers is None or stage >= len(self.continued_optimizers):
            return
        saved = self.continued_optimizers[stage]
        hyper = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
        optimizer.load_state_dict(saved["optimizer"])
        for group, values in zip(optimizer.param_groups, hyper, strict=True):
            group.update(values)
        if scheduler is not None and saved["scheduler"] is not None:
            state = dict(saved["scheduler"])
            if "base_lrs" in state and hasattr(scheduler, "base_lrs"):
                state["base_lrs"] = list(scheduler.base_lrs)
            scheduler.load_state_dict(state)

    # ---------------------------------------------------------------- stages
    def run(
        self,
        task,
        loader: Iterable,
        epochs: Sequence[int],
        optimizer: torch.optim.Optimizer,
        scheduler=None,
        hooks: Sequence[Hook] = (),
        device: torch.device | str = "cpu",
        amp_dtype: torch.dtype | None = None,
    ) -> list[dict]:
        """Run one stage of the fit (see :func:`run_training`) and return its history.

        The stage starts from the checkpoint when one was saved during it,
        is skipped when the checkpoint was saved during a later stage (its
        task takes the state it ended with), and after an interrupt runs no
        epoch at all.
        """
        stage = len(self.tasks)
        self.tasks.append(task)
        self.optimizers.append((optimizer, scheduler))
        epochs = list(epochs)
        if self.interrupted:
            return []
        device = torch.device(device)
        context = self.context
        if context is not None:
            if not hasattr(task, "use_distributed"):
                raise ValueError(
                    f"{type(task).__name__} does not support training under torch.distributed; "
                    "fit it in a single process."
                )
            task.use_distributed(context)
            loader = context.shard(loader)
        if self.warm_states is not None and stage < len(self.warm_states):
            task.load_state_dict(self.warm_states[stage])
        self._continue_optimizer(stage, optimizer, scheduler)
        scaler = None
        if amp_dtype == torch.float16 and device.type == "cuda":
            scaler = torch.amp.GradScaler("cuda")

        history: list[dict] = []
        saved = self.saved
        if saved is not None and saved["stage"] > stage:
            done = saved["completed"][stage]
            task.load_state_dict(done["task"])
            self.completed.append(done)
            return list(done["history"])
        if saved is not None and saved["stage"] == stage:
            if saved["n_epochs"] != len(epochs):
                raise ValueError(
                    f"The checkpoint in {str(self.checkpoint_dir)!r} was written for "
                    f"{saved['n_epochs']} epochs in stage {stage}, this fit runs {len(epochs)}."
                )
            self.module.load_state_dict(saved["module"])
            optimizer.load_state_dict(saved["optimizer"])
            if scheduler is not None and saved["scheduler"] is not None:
                scheduler.load_state_dict(saved["scheduler"])
            if scaler is not None and saved["scaler"] is not None:
                scaler.load_state_dict(saved["scaler"])
            task.load_state_dict(saved["task"])
            self._set_rng_state(saved["rng"])
            history = list(saved["history"])
            self.saved = None
        if context is not None:
            context.broadcast_module(self.module)
            task.load_state_dict(context.broadcast_state(task.state_dict()))
            context.broadcast_generator(self.generator)

        start = len(history)
        last = {"snapshot": self._capture(task, history)}
        if self.start_module is None:
            self.start_module = last["snapshot"]["module"]

        def epoch_end(record: dict) -> None:
            history.append(record)
            snapshot = self._capture(task, history)
            last["snapshot"] = snapshot
            self.progress = True
            n_done = len(history)
            due = n_done % self.checkpoint_every == 0 or n_done == len(epochs)
            if self.writes_checkpoints and due:
                state = {
                    "format": CHECKPOINT_FORMAT,
                    "signature": self.signature,
                    "torch_version": str(torch.__version__),
                    "stage": stage,
                    "n_done": n_done,
                    "n_epochs": len(epochs),
                    "module": snapshot["module"],
                    "task": snapshot["task"],
                    "rng": snapshot["rng"],
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict() if scheduler is not None else None,
                    "scaler": scaler.state_dict() if scaler is not None else None,
                    "history": plain(history),
                    "completed": self.completed,
                }
                save_checkpoint(state, self.checkpoint_dir)

        own: list[Hook] = []
        if context is not None:
            own.append(DistributedHook(context, self.module, self.generator))
        own.append(_EpochEnd(epoch_end))
        try:
            run_training(
                task,
                loader,
                epochs[start:],
                optimizer,
                scheduler,
                [*own, *hooks],
                device=device,
                amp_dtype=amp_dtype,
                scaler=scaler,
            )
        except KeyboardInterrupt:
            if not self.progress:
                raise
            snapshot = last["snapshot"]
            self._restore(snapshot, task)
            self.interrupted = True
            return list(snapshot["history"])
        if self.checkpoint_dir is not None:
            self.completed.append(
                {"history": plain(history), "task": plain(clone_state(task.state_dict(), "cpu"))}
            )
        return history


#: Estimator attributes a call sets from its input.
INPUT_ATTRIBUTES = ("n_features_in_", "feature_names_in_", "image_shape_", "_image_resize")
#: Estimator attributes a call leaves (removed again when an interrupt leaves no result).
FITTED_ATTRIBUTES = (
    "module_",
    "labels_",
    "cluster_centers_",
    "n_iter_",
    "history_",
    "_n_features_out",
    "_warm_state",
    "_stream_state",
)


def seed_global_rngs(seed: int, device: torch.device) -> None:
    """Seed the global CPU generator and, for a CUDA fit, the training device's generator.

    :func:`torch.manual_seed` would also reseed every other CUDA device (or,
    before CUDA starts, queue that for later), which a call forks and
    restores only for its own device.
    """
    torch.default_generator.manual_seed(seed)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        torch.cuda.default_generators[index].manual_seed(seed)  # started by fork_rng
    elif device.type != "cpu":  # other accelerators: their generators as torch seeds them
        torch.manual_seed(seed)


class FitCall:
    """One call of an estimator's ``fit`` (``stream=False``) or ``partial_fit`` (``stream=True``).

    It owns what a call continues from and what it undoes, so that ``fit`` and
    ``partial_fit`` read as the same few steps: :meth:`validate` the input
    (the data), run the estimator's training inside :meth:`session`, then
    :meth:`finish`.

    * **Continuation.** A warm-started ``fit`` continues the previous fit's
      network and task states (on the same data, checked here); a
      ``partial_fit`` continues the previous call's network, task states,
      optimiser and schedule states and generator, or a fitted network when
      the stream starts after ``fit``. ``fit`` with ``warm_start=True`` after
      ``partial_fit`` is refused, and a plain ``fit`` ends the stream.
    * **RNGs.** The call runs inside :func:`torch.random.fork_rng`, seeded from
      ``random_state`` (a continued stream: from its generator), so the
      caller's global RNG state is restored afterwards.
    * **Interrupts.** A KeyboardInterrupt before the first epoch of the call
      completes leaves the estimator as it was before the call (unfitted, or
      the previous fit or stream); after it, :meth:`finish` keeps the state of
      the last completed epoch, warns and re-raises.

    Parameters
    ----------
    estimator : BaseDeepClustering
    stream : bool
        ``partial_fit`` rather than ``fit``.
    """

    def __init__(self, estimator, stream: bool) -> None:
        self.est = estimator
        self.stream = stream
        self.context = current_context()
        name = type(estimator).__name__
        if stream and self.context is not None:
            raise ValueError(
                f"{name}.partial_fit trains in a single process; under torch.distributed "
                "call fit on the whole data set."
            )
        device = resolve_device(estimator.device)
        self.device = device if self.context is None else self.context.training_device(device)
        self.previous = self._previous_state()
        if self.previous is None:
            estimator._builtin_cnn = False  # set again by _make_backbone
        self.inputs = {k: getattr(estimator, k) for k in INPUT_ATTRIBUTES if hasattr(estimator, k)}
        self.signature: dict = {}
        self.fit_session: FitSession | None = None

    @property
    def continues(self) -> bool:
        """Whether the call continues a fitted network (warm start, stream, or a stream
        started after ``fit``)."""
        return self.previous is not None

    @property
    def hooks(self) -> list:
        """The estimator's loop hooks for this call."""
        return self.est._fit_hooks(self.context)

    def _previous_state(self) -> dict | None:
        est = self.est
        if self.stream:
            previous = getattr(est, "_stream_state", None)
            if previous is None and hasattr(est, "module_"):  # start from the fitted network
                k = getattr(est, "_warm_state", {}).get("n_clusters", est.n_clusters)
                previous = {"n_iter": est.n_iter_, "n_clusters": k, "tasks": None}
            if previous is not None and previous["n_clusters"] != est.n_clusters:
                raise ValueError(
                    f"partial_fit continues the model of this {type(est).__name__}, which has "
                    f"n_clusters={previous['n_clusters']}; got n_clusters={est.n_clusters}. "
                    "Call fit, or partial_fit on a new estimator (sklearn.base.clone)."
                )
            return previous
        if not est.warm_start or not hasattr(est, "module_"):
            return None
        if hasattr(est, "_stream_state"):
            raise ValueError(
                f"warm_start=True continues a previous fit on the same data, but this "
                f"{type(est).__name__} was trained by partial_fit. Keep calling partial_fit, "
                "or set warm_start=False to fit from scratch."
            )
        return getattr(est, "_warm_state", None)

    # ------------------------------------------------------------- validate
    def validate(self, make_data, *args):
        """``make_data(*args, device)``, the validated training data, and the fit's signature.

        On any error the input attributes (``n_features_in_``, ...) are put back
        as they were, so that a refused call leaves a fitted estimator usable.
        """
        est = self.est
        try:
            data = make_data(*args, self.device)
            resolve_amp(est.amp, self.device)  # refuse an impossible dtype before training
            if not self.stream:
                self.signature = {
                    "estimator": f"{type(est).__module__}.{type(est).__qualname__}",
                    "params": describe_params(est.get_params(deep=False)),
                    "data": data_digest(data),
                    "world_size": 1 if self.context is None else self.context.world_size,
                    "warm_round": 0 if self.previous is None else self.previous["round"] + 1,
                }
                if self.previous is not None:
                    self._check_warm_start(self.signature["data"])
        except BaseException:
            for name in INPUT_ATTRIBUTES:
                if name in self.inputs:
                    setattr(est, name, self.inputs[name])
                elif hasattr(est, name):
                    delattr(est, name)
            raise
        return data

    def _check_warm_start(self, data: dict) -> None:
        warm, est = self.previous, self.est
        name = type(est).__name__
        if warm["n_clusters"] != est.n_clusters:
            raise ValueError(
                f"warm_start=True continues the previous fit of this {name}, which had "
                f"n_clusters={warm['n_clusters']}; got n_clusters={est.n_clusters}. Set "
                "warm_start=False to fit from scratch."
            )
        if warm["data"]["shape"] != data["shape"]:
            raise ValueError(
                f"warm_start=True continues the previous fit of this {name} on its data, of "
                f"shape {tuple(warm['data']['shape'])}; got data of shape "
                f"{tuple(data['shape'])}. Set warm_start=False to fit new data from scratch."
            )
        if warm["data"]["digest"] != data["digest"]:
            raise ValueError(
                f"warm_start=True continues the previous fit of this {name}, whose "
                "assignment state (a label per training sample) belongs to its data; got "
                "data of the same shape but different values. Set warm_start=False to fit "
                "new data from scratch."
            )

    # -------------------------------------------------------------- session
    def _seed(self) -> tuple[int, torch.Generator]:
        """The global seed and the generator of the call."""
        saved = None if self.previous is None else self.previous.get("generator")
        if saved is not None:  # a continued stream draws on from its generator
            generator = torch.Generator()
            generator.set_state(saved.cpu())
            return int(torch.randint(2**31 - 1, (1,), generator=generator)), generator
        seed = resolve_seed(self.est.random_state)
        if self.context is not None:
            seed = self.context.broadcast_int(seed)
        return seed, make_generator(seed)

    @contextmanager
    def session(self, data) -> Iterator[FitSession]:
        """The :class:`FitSession` of the call, with the estimator's ``module_`` ready.

        A new network is built from ``data`` unless the call continues one.
        While the session is open the estimator reaches it as ``_fit_session``.
        """
        est, device = self.est, self.device
        cuda_devices = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda_devices):
            seed, generator = self._seed()
            seed_global_rngs(seed, device)
            if self.previous is None:
                build = est._build_stream_module if self.stream else est._build_module
                est.module_ = build(data).to(device)
            else:
                est.module_.to(device)
            est.module_.train()
            previous = self.previous or {}
            session = FitSession(
                est.module_,
                generator,
                device,
                self.signature,
                checkpoint_dir=None if self.stream else est.checkpoint_dir,
                checkpoint_every=est.checkpoint_every,
                context=self.context,
                warm_states=previous.get("tasks") if self.continues else None,
                optimizer_states=previous.get("optimizers"),
            )
            if self.continues:  # a warm start keeps the previous fit after an early
                # interrupt; an interrupted partial_fit call is undone
                session.restoring = session.continued = True
                session.progress = not self.stream
            self.fit_session = est._fit_session = session
            kept = {k: getattr(est, k) for k in FITTED_ATTRIBUTES if hasattr(est, k)}
            try:
                yield session
            except KeyboardInterrupt:  # nothing completed: back to the state before the call
                self._forget()
                if self.continues:
                    if session.start_module is not None:
                        kept["module_"].load_state_dict(session.start_module)
                    for name, value in kept.items():
                        setattr(est, name, value)
                raise
            finally:
                del est._fit_session

    def _forget(self, keep: tuple = ()) -> None:
        for name in FITTED_ATTRIBUTES:
            if name not in keep and hasattr(self.est, name):
                delattr(self.est, name)

    # --------------------------------------------------------------- finish
    def finish(self, history: list, data) -> None:
        """Set ``history_``, ``n_iter_`` and the state a later call continues from.

        After an interrupt that left a result, warn and re-raise the
        KeyboardInterrupt.
        """
        est, session, previous = self.est, self.fit_session, self.previous
        est.module_.eval()
        trained = sum(1 for record in history if record.get("epoch", 0) >= 0)
        if self.stream:
            est.n_iter_ = trained + (0 if previous is None else previous["n_iter"])
            est._stream_state = {
                "tasks": session.task_states(),
                "optimizers": session.optimizer_states(),
                "generator": session.generator.get_state(),
                "n_clusters": est.n_clusters,
                "n_iter": est.n_iter_,
            }
            self._forget(keep=tuple(k for k in FITTED_ATTRIBUTES if k != "_warm_state"))
        else:
            if session.interrupted:
                est.n_iter_ = trained
            if previous is not None:
                history = list(est.history_) + list(history)
                est.n_iter_ = est.n_iter_ + previous["n_iter"]
            est._warm_state = {
                "tasks": session.task_states(),
                "n_clusters": est.n_clusters,
                "data": self.signature["data"],
                "n_iter": est.n_iter_,
                "round": self.signature["warm_round"],
            }
            self._forget(keep=FITTED_ATTRIBUTES[:-1])
        est.history_ = history
        est._n_features_out = est._embedding_width(data)
        if session.interrupted:
            method = "partial_fit" if self.stream else "fit"
            warnings.warn(
                f"{type(est).__name__}.{method} was interrupted: the estimator holds the state "
                f"after the last completed epoch ({est.n_iter_} training "
                f"epoch{'' if est.n_iter_ == 1 else 's'} in all).",
                UserWarning,
                stacklevel=4,
            )
            raise KeyboardInterrupt
