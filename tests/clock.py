"""The one fake clock of the test suite: time passes only when somebody sleeps, and every sleep is
recorded, so rate limits and retries are tested without waiting."""


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
