"""Who reacts to what: filled in by the architecture change."""


def install() -> None:
    pass
