"""The project's exceptions: each message says what was expected and what was found."""


class MirabelleError(Exception):
    """Base of every error the user should see as a sentence, not a traceback."""


class CubeError(MirabelleError, ValueError):
    """A cube file cannot be opened or read as SITELLE data."""


class ModelError(MirabelleError, ValueError):
    """A model file is missing, corrupt, or does not match its card or the cube."""


class ExportError(MirabelleError, OSError):
    """Writing maps, priors, flags or images failed."""


class FlagsError(MirabelleError, ValueError):
    """Double-component flags cannot be read or applied."""


class RegionError(FlagsError):
    """A DS9 region (a run's region, a sky region, a region spectrum) cannot be read or covers
    no pixel of the cube."""
