"""The double-random draw (双随机): seeded stratified sampling and team assignment (sr-draw/2).

``docs/draw-algorithm.md`` specifies every step; this package is its reference implementation.
The draw itself treats ids as opaque strings. The service draws on per-draw pseudonyms
(``pseudonymize``) so that the published document can be recomputed by anyone without naming
the people and enterprises of the pool, or who is recused from whom.

``model`` (versions, inputs, outputs, errors), ``snapshot`` (the canonical snapshot and
seed commitment), ``pseudonyms``, ``checks`` (the inputs checked), ``algorithm`` (the
generator, sample sizes, sampling, teams and ``verify``) and ``reading`` (a published
document read back).
"""
