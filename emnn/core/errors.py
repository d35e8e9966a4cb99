"""Errors that stop the study early with one message naming the culprit."""


class StudyError(ValueError):
    """Bad configuration or data; the message says what and where."""


class ConfigError(StudyError):
    pass


class DataError(StudyError):
    pass
