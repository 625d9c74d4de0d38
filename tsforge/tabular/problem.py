"""The one error the CSV profiler raises: the file cannot be used as it is."""


class CsvProblem(Exception):
    """A CSV file tsforge cannot read; the message is written for the user.

    ``line`` is the 1-based physical line number of the problem where it is known.
    """

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return self.message
