"""French stop words: data only.

The list holds function words in their lowercase spelling, with and without
accents where users type both. It is checked *before* accent folding, so
``maïs`` is not mistaken for ``mais``. Homographs that are also content words
(``été`` summer, ``pas`` step, ``or`` gold, ``car`` coach, ``fin`` end,
``son`` sound, ``sommes`` sums, ``avions`` planes, ``être`` a being,
``même``, ``fut``/``fût``) are deliberately absent.

Stop words are indexed like any word (phrases and all-stop-word queries need
them); the query builder drops them from a query only when other words remain.
"""

from __future__ import annotations

FRENCH_STOP_WORDS: frozenset[str] = frozenset(
    """
    a à au aux avec ce ceci cela ça ces cet cette c d de des du dans
    elle elles en et eux il ils je j l la le les leur leurs lui
    m ma me mes moi mon n ne ni nos notre nous on ou où par pour
    qu que qui quoi s sa se ses si sur t ta te tes toi ton tu
    un une vos votre vous y dont
    ai as avons avez ont avais avait aviez avaient eu eue eus eut
    aura aurai auras aurez auront aurait auraient aie aies ait ayons ayez aient ayant
    suis es est êtes etes sont étais etais était etait étions etions étiez etiez
    étaient etaient sera serai seras serons serez seront serait seraient
    soit sois soyons soyez soient étant etant
    mais donc
    quel quelle quels quelles lequel laquelle lesquels lesquelles
    comment combien pourquoi quand
    """.split()
)
"""Function words dropped from queries that have other words."""
