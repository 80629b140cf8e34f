"""Errors raised by the data layer."""


class DataMissingError(FileNotFoundError):
    """A dataset's source files are missing or unreadable.

    The message always names the dataset, the path tried and how to obtain the data.
    """

    def __init__(self, dataset: str, path, how_to_obtain: str, detail: str = ""):
        self.dataset, self.path, self.how_to_obtain = dataset, str(path), how_to_obtain
        self.detail = detail
        msg = f"dataset '{dataset}': cannot read source files at '{path}'"
        if detail:
            msg += f" ({detail})"
        msg += f". To obtain it: {how_to_obtain}"
        super().__init__(msg)


def source_error(dataset: str, path, how_to_obtain: str, exc: BaseException) -> DataMissingError:
    """Wrap a low-level read failure (bad magic, truncated gzip, bad pickle, wrong shape) of the
    source file ``path`` into a :class:`DataMissingError` that keeps the detail."""
    if isinstance(exc, DataMissingError):
        return exc
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return DataMissingError(dataset, path, how_to_obtain, detail=f"corrupt or unreadable file: {detail}")
