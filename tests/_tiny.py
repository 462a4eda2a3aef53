"""A tiny experiment config for the tests that run `vfreport run-all` end to end (seconds per run)."""


def tiny_toml(name: str = "tiny", seeds: tuple[int, ...] = (0,), epochs: int = 3, checkpoint_every: int = 5,
              train_windows: int = 16, val_windows: int = 8) -> str:
    """Both arms of the demo preset, with 1-s windows, batch 8 and the given sizes, as TOML."""
    arms = "".join(f"\n[arms.{arm}]\ntrain_windows = {train_windows}\nval_windows = {val_windows}\n"
                   for arm in ("librispeech", "ami"))
    return (f'[experiment]\nname = "{name}"\nseeds = {list(seeds)}\nepochs = {epochs}\n'
            f"checkpoint_every = {checkpoint_every}\n\n[train]\nwindow_seconds = 1.0\nbatch_size = 8\n{arms}")
