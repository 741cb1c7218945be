"""A ``scipy.stats`` family with its parameters bound (the named laws' ``_dist``)."""

from __future__ import annotations


class Bound:
    """A ``scipy.stats`` family with its parameters bound, without freezing it: ``rv_frozen`` builds a
    new distribution object (2–3 ms each, its docstring included), which was most of a likelihood
    fit's time (a law per Nelder–Mead step); the methods are the family's own, so the numbers are the
    same to the last bit."""

    __slots__ = ("family", "args", "kwds")

    def __init__(self, family, *args, **kwds):
        self.family, self.args, self.kwds = family, args, kwds

    def cdf(self, x):
        return self.family.cdf(x, *self.args, **self.kwds)

    def sf(self, x):
        return self.family.sf(x, *self.args, **self.kwds)

    def pdf(self, x):
        return self.family.pdf(x, *self.args, **self.kwds)

    def logpdf(self, x):
        return self.family.logpdf(x, *self.args, **self.kwds)

    def ppf(self, q):
        return self.family.ppf(q, *self.args, **self.kwds)

    def isf(self, q):
        return self.family.isf(q, *self.args, **self.kwds)

    def mean(self):
        return self.family.mean(*self.args, **self.kwds)

    def support(self):
        return self.family.support(*self.args, **self.kwds)

    def rvs(self, size, random_state):
        return self.family.rvs(*self.args, size=size, random_state=random_state, **self.kwds)
