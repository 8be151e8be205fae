"""Orchestration: extracts in, entities and counts out.

Stages (each its own module with a small interface):

1. compatibility check of the inputs (same schema, secret and bit length);
2. :mod:`~tiplink.linkage.similarity`: encodings laid out per segment;
3. :mod:`~tiplink.linkage.blocking`: every pair (small inputs) or Hamming LSH
   candidates (large inputs);
4. :mod:`~tiplink.linkage.scoring`: the pattern histogram over all pairs and
   the unsupervised decision model fitted to it (or a user's Dice threshold);
5. :mod:`~tiplink.linkage.clustering`: entities by greedy correlation
   clustering of the pair probabilities;
6. :mod:`~tiplink.linkage.capture`: capture histories per entity.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tiplink.encoders.extract import Extract
from tiplink.errors import ExtractError
from tiplink.linkage import blocking, exclusivity, frequency, scoring, similarity
from tiplink.linkage.capture import entity_party_sets
from tiplink.linkage.clustering import Clustering, cluster, cluster_to_count
from tiplink.linkage.scoring import FSModel
from tiplink.linkage.similarity import LevelScheme, SegmentLayout
from tiplink.linkage.strata import record_strata

#: Pairs whose posterior is below this are dropped before clustering.
MIN_EVIDENCE = 0.02
#: Random pairs drawn (over all pair classes) to estimate the histogram of
#: the pairs that LSH does not propose: ``SAMPLE_PER_RECORD`` per record,
#: within ``[SAMPLE_PAIRS, SAMPLE_PAIRS_MAX]``. Each sampled pair stands for
#: ``all pairs / sample`` pairs, and the rare sampled pairs with moderately
#: similar names and dates then weigh as much as thousands of matches: at
#: 1M records a fixed 4M sample (weight 125,000) gave F1 0.53 and people
#: +34%, 40M (weight 12,500) F1 0.59 and +14%.
SAMPLE_PAIRS = 4_000_000
SAMPLE_PER_RECORD = 40
SAMPLE_PAIRS_MAX = 40_000_000
#: Sampled pairs handled at once (bounds memory).
SAMPLE_CHUNK = 4_000_000
#: Most identical-on-a-value pairs kept between the model and the selection
#: (16 bytes each); beyond that they are enumerated and scored again.
IDENTICAL_CACHE_PAIRS = 20_000_000
#: Selected pairs scored at once (bounds memory).
SCORE_CHUNK = 4_000_000
#: Below this many pairs a single-similarity model cannot be fitted; the
#: engine then links at a conventional Dice cut.
SMALL_PAIRS = 200_000
SMALL_DICE = 0.85
#: Default match-probability cut of the clustering: two groups of records
#: merge while their cross pairs are on average more likely matches than
#: not (see :mod:`~tiplink.linkage.clustering`).
MATCH_CUT = 0.5
#: Range of match-probability cuts searched for the count-matched cut. The
#: rival adjustment (:mod:`~tiplink.linkage.exclusivity`) lowers the
#: probabilities of contested pairs, so the cut that gives the expected
#: number of people sits lower than on pairwise posteriors (0.08-0.11 on the
#: synthetic registers); a floor of 0.1 held the 10k and 100k sets above
#: their targets.
CUT_RANGE = (0.03, 0.5)
#: Exponent of the rival factor (see :func:`exclusivity.compete`).
RIVAL_STRENGTH = 0.5


@dataclass
class LinkageResult:
    """What a linkage run produced.

    Attributes:
        clusters: ``party, record_id, entity_id`` (one row per input record,
            in input order); ``entity_id`` is ``int64``.
        parties: the party names, in input order.
        records: number of records per party.
        party_sets: for each entity id, the sorted tuple of its parties.
        model: the decision model used.
        diagnostics: timings, pair counts, blocking settings, model summary.
        pairs: the scored pairs the clustering saw (for re-clustering at
            another cut or resampling decisions; see
            :mod:`~tiplink.linkage.uncertainty`).
        record_strata: per clear stratum the inputs carry, each record's
            value (``""`` when empty), aligned with ``clusters``.
    """

    clusters: pd.DataFrame
    parties: list[str]
    records: dict[str, int]
    party_sets: list[tuple[str, ...]]
    model: FSModel | None
    diagnostics: dict = field(default_factory=dict)
    pairs: ScoredPairs | None = None
    record_strata: dict[str, list[str]] = field(default_factory=dict)

    @property
    def n_entities(self) -> int:
        return len(self.party_sets)


@dataclass(frozen=True)
class ScoredPairs:
    """Record pairs with their match probability, as the clustering saw them.

    Record indices count over all inputs in input order (the row order of
    :attr:`LinkageResult.clusters`). Pairs not listed count as probability 0.

    Attributes:
        left, right: ``int64`` record indices of each pair.
        prob: ``float64`` pairwise posterior match probability of each pair
            (calibrated for counts; resampling draws from these).
        n_records: number of records.
        group: ``int64`` party index (into ``LinkageResult.parties``) of each record.
        cut: the match-probability cut the clustering used.
        rival_strength: the rival adjustment the clustering applied to
            ``prob`` (:func:`exclusivity.compete`; 0 for none).
    """

    left: np.ndarray
    right: np.ndarray
    prob: np.ndarray
    n_records: int
    group: np.ndarray
    cut: float
    rival_strength: float = 0.0

    def link_prob(self, prob: np.ndarray | None = None) -> np.ndarray:
        """What the clustering is given: ``prob`` (default: :attr:`prob`) after the rival adjustment."""
        prob = self.prob if prob is None else prob
        if self.rival_strength == 0.0:
            return prob
        return exclusivity.compete(self.n_records, self.left, self.right, prob, self.group,
                                   self.rival_strength)


@dataclass
class PreparedRecords:
    """All records of all inputs, side by side.

    Attributes:
        words: segment-aligned encodings ``(n, n_words)`` ``uint64``.
        counts: set bits per record and segment ``(n, n_segments)``.
        layout: the segment layout.
        group: party index of each record.
        parties: party names.
    """

    words: np.ndarray
    counts: np.ndarray
    layout: SegmentLayout
    group: np.ndarray
    parties: list[str]


def check_compatible(extracts: Sequence[Extract], names: Sequence[str] | None = None) -> None:
    """Refuse inputs that cannot be linked together.

    Args:
        extracts: the inputs.
        names: how to call each input in messages (file names); party names
            by default.

    Raises:
        ExtractError: no input, a party appears twice, or two inputs differ
            in bit length, schema fingerprint, key-check value or segments.
    """
    if not extracts:
        raise ExtractError("no extract to link")
    names = list(names) if names is not None else [e.header.party for e in extracts]
    first, first_name = extracts[0].header, names[0]
    seen: dict[str, str] = {}
    for extract, name in zip(extracts, names, strict=True):
        h = extract.header
        if h.party in seen:
            raise ExtractError(f"{seen[h.party]} and {name} are both from party {h.party!r}; "
                               "give each party once")
        seen[h.party] = name
        if h.bit_length != first.bit_length:
            raise ExtractError(f"{first_name} and {name} differ in bit length "
                               f"({first.bit_length} vs {h.bit_length}); encode both with "
                               "the same schema")
        if first.schema_fingerprint and h.schema_fingerprint and \
                h.schema_fingerprint != first.schema_fingerprint:
            raise ExtractError(f"{first_name} and {name} differ in schema fingerprint "
                               "(encoded with different linkage schemas)")
        if first.key_check and h.key_check and h.key_check != first.key_check:
            raise ExtractError(f"{first_name} and {name} differ in key-check value "
                               "(encoded with different secrets)")
        if first.segments and h.segments and tuple(h.segments) != tuple(first.segments):
            raise ExtractError(f"{first_name} and {name} differ in segment layout")
        if extract.clks.ndim != 2 or extract.clks.shape[1] * 8 != h.bit_length:
            raise ExtractError(f"{name}: encodings do not match the header's bit length")


def prepare(extracts: Sequence[Extract], whole: bool = False) -> PreparedRecords:
    """Stack the inputs' encodings into the segment-aligned layout.

    Args:
        extracts: compatible inputs.
        whole: ignore segments and treat each encoding as one (for a Dice
            threshold on the whole encoding).
    """
    header = extracts[0].header
    segments = [] if whole else [(s.name, s.start, s.bits) for s in header.segments]
    layout = similarity.segment_layout(segments, header.bit_length)
    total = sum(len(e.record_ids) for e in extracts)
    words = np.empty((total, layout.n_words), dtype=np.uint64)
    group = np.empty(total, dtype=np.int64)
    at = 0
    for index, extract in enumerate(extracts):
        n = len(extract.record_ids)
        words[at:at + n] = similarity.pack_words(extract.clks, layout)
        group[at:at + n] = index
        at += n
    counts = similarity.segment_popcounts(words, layout)
    return PreparedRecords(words, counts, layout, group, [e.header.party for e in extracts])


def pair_classes(n_parties: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Class index of each unordered party pair, and the pairs by class."""
    table = np.zeros((n_parties, n_parties), dtype=np.int64)
    names = []
    for a in range(n_parties):
        for b in range(a, n_parties):
            table[a, b] = table[b, a] = len(names)
            names.append((a, b))
    return table, names


def _class_pair_totals(sizes: np.ndarray, names: list[tuple[int, int]]) -> np.ndarray:
    out = np.zeros(len(names), dtype=np.float64)
    for c, (a, b) in enumerate(names):
        out[c] = sizes[a] * (sizes[a] - 1) / 2 if a == b else float(sizes[a]) * float(sizes[b])
    return out


def _sample_pairs(rng: np.random.Generator, members: list[np.ndarray], a: int, b: int,
                  count: int) -> tuple[np.ndarray, np.ndarray]:
    if a == b:
        left = rng.integers(0, len(members[a]), size=count)
        right = rng.integers(0, len(members[a]) - 1, size=count)
        right = right + (right >= left)  # a uniform other record
        i, j = members[a][left], members[a][right]
    else:
        i = members[a][rng.integers(0, len(members[a]), size=count)]
        j = members[b][rng.integers(0, len(members[b]), size=count)]
    return np.minimum(i, j), np.maximum(i, j)


def _sampled_histogram(prepared: PreparedRecords, scheme: LevelScheme, keys: np.ndarray,
                       class_table: np.ndarray, class_names: list[tuple[int, int]],
                       candidate_totals: np.ndarray) -> np.ndarray:
    """Estimated pattern histogram of the pairs LSH did not propose, per class."""
    n_parties = len(prepared.parties)
    members = [np.nonzero(prepared.group == p)[0] for p in range(n_parties)]
    sizes = np.array([len(m) for m in members])
    totals = _class_pair_totals(sizes, class_names)
    hist = np.zeros((len(class_names), scheme.n_patterns), dtype=np.float64)
    rng = np.random.default_rng(11)
    grand = max(totals.sum(), 1.0)
    sample = int(np.clip(SAMPLE_PER_RECORD * len(prepared.group), SAMPLE_PAIRS,
                         SAMPLE_PAIRS_MAX))
    for c, (a, b) in enumerate(class_names):
        if totals[c] < 1:
            continue
        count = int(min(totals[c], max(200_000, sample * totals[c] / grand)))
        class_hist = np.zeros(scheme.n_patterns, dtype=np.float64)
        n_outside = 0
        for done in range(0, count, SAMPLE_CHUNK):
            left, right = _sample_pairs(rng, members, a, b, min(SAMPLE_CHUNK, count - done))
            outside = ~blocking.pairs_collide(keys, left, right)
            if not outside.any():
                continue
            codes = similarity.pair_patterns(prepared.words, prepared.counts, prepared.layout,
                                             scheme, left[outside], right[outside])
            class_hist += np.bincount(codes, minlength=scheme.n_patterns)
            n_outside += int(outside.sum())
        if n_outside:
            hist[c] += class_hist * (max(totals[c] - candidate_totals[c], 0.0) / n_outside)
    return hist


def link_extracts(extracts: Sequence[Extract], threshold: float | None = None,
                  progress: Callable[[float], None] | None = None,
                  names: Sequence[str] | None = None,
                  exhaustive_max_pairs: int = blocking.EXHAUSTIVE_MAX_PAIRS,
                  match_cut: float | None = None) -> LinkageResult:
    """Link (and deduplicate) encoded extracts.

    Args:
        extracts: one or more compatible extracts, one per party. A single
            extract is deduplicated.
        threshold: a Dice threshold on the whole encoding; ``None`` (the
            default) fits the decision model to the data without labels.
        progress: called with the fraction done, from 0.0 to 1.0.
        names: names of the inputs for error messages (file names).
        exhaustive_max_pairs: compare every pair up to this many pairs,
            use LSH blocking beyond.
        match_cut: the fitted model's match-probability cut used by the
            clustering, in (0, 1); ``None`` is the default :data:`MATCH_CUT`
            (0.5). Lower links more (fewer missed links, more false ones).
            Not combinable with ``threshold``.

    Returns:
        The :class:`LinkageResult`.

    Raises:
        ExtractError: the inputs are incompatible.
    """
    report = progress or (lambda _f: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    check_compatible(extracts, names)
    if threshold is not None and not 0.0 < threshold <= 1.0:
        raise ExtractError("threshold must be in (0, 1]")
    if match_cut is not None and threshold is not None:
        raise ExtractError("give either a Dice threshold or a match-probability cut, not both")
    if match_cut is not None and not 0.0 < match_cut < 1.0:
        raise ExtractError("the match-probability cut must be in (0, 1)")
    cut = MATCH_CUT if match_cut is None else float(match_cut)
    report(0.0)

    prepared = prepare(extracts, whole=threshold is not None)
    n = prepared.words.shape[0]
    n_parties = len(prepared.parties)
    class_table, class_names = pair_classes(n_parties)
    timings["prepare_s"] = time.perf_counter() - started
    report(0.05)

    if threshold is not None:
        scheme = LevelScheme.build([[threshold]])
    elif n >= 2:
        stats = _sample_stats(prepared)
        scheme = scoring.choose_scheme(stats)
    else:
        scheme = scoring.level_scheme(prepared.layout.n_segments)
    diagnostics: dict = {"records": int(n), "segments": list(prepared.layout.names)}
    exhaustive = blocking.exhaustive_is_affordable(n, exhaustive_max_pairs)
    diagnostics["blocking"] = "exhaustive" if exhaustive else "lsh"

    t0 = time.perf_counter()
    keys = None
    refined: frequency.RefinedScheme | None = None
    freq: frequency.ValueFrequencies | None = None
    identical: _IdenticalPairs | None = None
    if n < 2:
        model = None
        left = right = np.empty(0, np.int64)
        prob = np.empty(0)
    else:
        if not exhaustive:
            plan, keys = blocking_keys(prepared, stats if threshold is None else None)
            timings["keys_s"] = time.perf_counter() - t0
            # Pass 1 over the tables: the candidates' pattern histogram only
            # (candidates are scored inside the table kernels, never stored).
            first = similarity.scan_tables(
                prepared.words, prepared.counts, prepared.layout, scheme, prepared.group,
                class_table, len(class_names), keys,
                np.zeros((len(class_names), scheme.n_patterns), dtype=np.bool_))
            cand_hist = first.hist.astype(np.float64)
            n_candidates = first.candidates
            diagnostics["lsh"] = {**plan.description, "candidate_pairs": n_candidates}
        timings["blocking_s"] = time.perf_counter() - t0
        report(0.3)

        t0 = time.perf_counter()
        if threshold is not None:
            model = _threshold_model(scheme, len(class_names))
        else:
            if exhaustive:
                hist = similarity.all_pairs_histogram(
                    prepared.words, prepared.counts, prepared.layout, scheme, prepared.group,
                    class_table, len(class_names)).astype(np.float64)
            else:
                hist = cand_hist + _sampled_histogram(prepared, scheme, keys, class_table,
                                                      class_names, cand_hist.sum(axis=1))
            if prepared.layout.n_segments == 1 and hist.sum() < SMALL_PAIRS:
                # Too few pairs to fit a tail: a conventional Dice cut.
                model = _threshold_model(LevelScheme.build([[SMALL_DICE]]), len(class_names))
                scheme = model.scheme
            elif prepared.layout.n_segments == 1:
                model = scoring.fit_single_segment(hist, scheme)
            else:
                sizes = np.bincount(prepared.group, minlength=n_parties)
                context = stats.context_segments()
                diagnostics["context_segments"] = [prepared.layout.names[s] for s in context]
                tf_segments = _frequency_segments(stats)
                if tf_segments:
                    freq = frequency.value_frequencies(prepared.words, prepared.counts,
                                                       prepared.layout, tf_segments)
                    refined = frequency.refined_scheme(scheme, tf_segments)
                    identical = _IdenticalPairs(prepared, scheme, refined, freq, class_table,
                                                0 if exhaustive else IDENTICAL_CACHE_PAIRS)
                    hist = frequency.refine_histogram(hist, refined,
                                                      identical.histogram_chunks())
                    diagnostics["frequency_segments"] = [prepared.layout.names[s]
                                                         for s in tf_segments]
                model = scoring.fit_context_model(
                    hist, refined if refined is not None else scheme, context,
                    scoring.match_bounds(sizes, class_names))
        if model.method != "threshold":
            model.posterior[:, _all_identical_patterns(model.scheme)] = 1.0
        timings["model_s"] = time.perf_counter() - t0
        report(0.6)

        t0 = time.perf_counter()
        keep = model.posterior >= (0.5 if threshold is not None else min(MIN_EVIDENCE, cut))
        keep_refined = keep
        if refined is not None:
            keep = _base_keep(keep, refined)
        # Every scored pair's probability counts towards the expected number
        # of people; the clustering only needs those with some evidence
        # (selection runs on base patterns, and at 1M records nine in ten of
        # the pairs it keeps have refined probabilities below the cut). So
        # each batch of pairs adds to the expectation and is then thinned.
        expectation = (scoring.EntityExpectation(n)
                       if match_cut is None and model.method.startswith("fellegi-sunter")
                       else None)
        min_prob = min(MIN_EVIDENCE, cut)
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        record_bins = identical.record_bins if identical is not None else None

        def score(all_left: np.ndarray, all_right: np.ndarray, all_codes: np.ndarray,
                  refined_codes: bool = False) -> None:
            for at in range(0, len(all_left), SCORE_CHUNK):  # slices bound the temporaries
                batch_left = all_left[at:at + SCORE_CHUNK]
                batch_right = all_right[at:at + SCORE_CHUNK]
                codes = all_codes[at:at + SCORE_CHUNK]
                if refined is not None and not refined_codes:
                    codes = refined.refine(codes, record_bins, batch_left)
                prob = model.posterior[similarity.pair_classes(prepared.group, class_table,
                                                               batch_left, batch_right), codes]
                if expectation is not None:
                    expectation.add(batch_left, batch_right, prob)
                evident = prob >= min_prob
                parts.append((batch_left[evident].astype(np.int64),
                              batch_right[evident].astype(np.int64), prob[evident]))

        if exhaustive:
            score(*similarity.all_pairs_select(
                prepared.words, prepared.counts, prepared.layout, scheme, prepared.group,
                class_table, keep))
        else:
            # Pass 2 over the tables: keep the pairs with some evidence.
            second = similarity.scan_tables(
                prepared.words, prepared.counts, prepared.layout, scheme, prepared.group,
                class_table, len(class_names), keys, keep, count=False)
            score(second.left, second.right, second.codes)
            del second
            if identical is not None:
                # Pairs identical on a value need not share an LSH key; those
                # that do were scored in pass 2.
                for il, ir, cls, rcodes in identical.complete_chunks():
                    sel = keep_refined[cls, rcodes]
                    sel[sel] = ~blocking.pairs_collide(keys, il[sel], ir[sel])
                    score(il[sel], ir[sel], rcodes[sel], refined_codes=True)
        left = np.concatenate([p[0] for p in parts])
        right = np.concatenate([p[1] for p in parts])
        prob = np.concatenate([p[2] for p in parts])
        del parts
        target = expectation.value() if expectation is not None else None
        timings["select_s"] = time.perf_counter() - t0
        diagnostics["scored_pairs"] = len(left)
        diagnostics["linked_pairs"] = int((prob > 0.5).sum())
    report(0.8)

    t0 = time.perf_counter()
    fitted = threshold is None and model is not None and model.method.startswith("fellegi-sunter")
    # A record's candidate partners in one party compete (a person is in a
    # register about once); the people target above stays on the pairwise
    # posteriors, and so do the pairs kept for resampling.
    pairs = ScoredPairs(left=np.asarray(left, dtype=np.int64),
                        right=np.asarray(right, dtype=np.int64),
                        prob=np.asarray(prob, dtype=np.float64), n_records=int(n),
                        group=prepared.group, cut=cut,
                        rival_strength=RIVAL_STRENGTH if fitted else 0.0)
    prob = pairs.link_prob()
    timings["rivals_s"] = time.perf_counter() - t0
    clustering: Clustering
    if match_cut is None and fitted:
        # Default: the cut whose clustering has the expected number of
        # people. The pair-balanced cut (scoring.balanced_cut) equates
        # expected false and missed *links*; but a missed link in a large
        # cluster costs one person, not one pair per member, and it
        # over-counted people by 3-5% at 5k-10k records. It is the first
        # guess of the search.
        diagnostics["expected_entities"] = target
        low, high = CUT_RANGE
        cut, clustering = cluster_to_count(n, left, right, prob, target, low=low, high=high,
                                           start=scoring.balanced_cut(prob, low, high))
    else:
        clustering = cluster(n, left, right, prob, threshold=cut)
    timings["cluster_s"] = time.perf_counter() - t0
    party_sets = entity_party_sets(clustering.labels, prepared.group, prepared.parties)
    record_ids = [rid for e in extracts for rid in e.record_ids]
    clusters = pd.DataFrame({
        "party": np.asarray(prepared.parties, dtype=object)[prepared.group],
        "record_id": record_ids,
        "entity_id": clustering.labels,
    })
    timings["total_s"] = time.perf_counter() - started
    diagnostics.update({"timings": timings, "entities": clustering.n_entities, "match_cut": cut,
                        "largest_entity": clustering.largest,
                        "model": model.summary() if model is not None else None})
    report(1.0)
    return LinkageResult(clusters=clusters, parties=prepared.parties,
                         records={e.header.party: len(e.record_ids) for e in extracts},
                         party_sets=party_sets, model=model, diagnostics=diagnostics,
                         pairs=dataclasses.replace(pairs, cut=float(cut)),
                         record_strata=record_strata(extracts))


def blocking_keys(prepared: PreparedRecords, stats: scoring.SegmentStats | None
                  ) -> tuple[blocking.TablePlan, blocking.BlockingKeys]:
    """The LSH tables and keys the engine uses for these records.

    Args:
        prepared: the records.
        stats: random-pair statistics (they name the identifying and context
            segments); ``None`` for whole-encoding tables only (a Dice
            threshold on the whole encoding).
    """
    layout = prepared.layout
    by_segment = [blocking.bit_positions((layout.bit_counts[s],), (layout.word_starts[s],))
                  for s in range(layout.n_segments)]
    identifying: list[int] = []
    context: list[int] = []
    if stats is not None and layout.n_segments > 1:
        context = stats.context_segments()
        categorical = set(stats.categorical_segments())
        identifying = [s for s in range(layout.n_segments)
                       if s not in context and s not in categorical]
    plan = blocking.plan_tables(prepared.words, by_segment, identifying, context)
    keys = blocking.plan_keys(prepared.words, prepared.counts, layout.word_bounds(), plan)
    return plan, keys


def _threshold_model(scheme: LevelScheme, n_classes: int) -> FSModel:
    """Accept identical encodings and those at or above the single Dice cut."""
    posterior = np.zeros((n_classes, scheme.n_patterns))
    posterior[:, 0] = 1.0  # identical
    posterior[:, 1] = 1.0  # Dice >= threshold
    return FSModel(scheme=scheme, log2_bf=np.zeros(scheme.n_patterns),
                   prior=np.zeros(n_classes), posterior=posterior, method="threshold",
                   expected_matches=np.zeros(n_classes))


def _sample_stats(prepared: PreparedRecords, pairs: int = 200_000) -> scoring.SegmentStats:
    """Per-segment statistics of random record pairs (fixed seed)."""
    n = prepared.words.shape[0]
    rng = np.random.default_rng(3)
    left = rng.integers(0, n, size=pairs)
    right = rng.integers(0, n - 1, size=pairs)
    right = right + (right >= left)
    dice = similarity.pair_dice(prepared.words, prepared.counts,
                                prepared.layout.word_bounds(), left, right)
    return scoring.segment_stats(dice, prepared.layout.bit_counts)


def _frequency_segments(stats: scoring.SegmentStats) -> list[int]:
    """Segments that get term-frequency levels: the identifying ones (name, date of birth)."""
    if len(stats.bits) < 2:
        return []
    skip = set(stats.context_segments()) | set(stats.categorical_segments())
    return [s for s in range(len(stats.bits)) if s not in skip]


def _identical_scored(prepared: PreparedRecords, scheme: LevelScheme,
                      refined: frequency.RefinedScheme, freq: frequency.ValueFrequencies,
                      class_table: np.ndarray, bins: np.ndarray
                      ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                          np.ndarray, np.ndarray, bool]]:
    """Chunks of the pairs identical on a value (:func:`frequency.identical_pairs`), scored.

    Yields:
        ``(left, right, class, base code, refined code, weight, complete)``.
    """
    for left, right, weight, complete in frequency.identical_pairs(freq):
        base = similarity.pair_patterns(prepared.words, prepared.counts, prepared.layout,
                                        scheme, left, right)
        codes = refined.refine(base, bins, left)
        cls = similarity.pair_classes(prepared.group, class_table, left, right)
        yield left, right, cls, base, codes, weight, complete


def _base_keep(keep: np.ndarray, refined: frequency.RefinedScheme) -> np.ndarray:
    """Keep a base pattern when any of its refinements is kept."""
    base_of = refined.base_of_codes(np.arange(refined.n_patterns))
    out = np.zeros((keep.shape[0], refined.base.n_patterns), dtype=bool)
    for c in range(keep.shape[0]):
        np.logical_or.at(out[c], base_of, keep[c])
    return out


class _IdenticalPairs:
    """The pairs identical on a value, scored once for the model and, within a
    budget, kept for the selection (scoring them again took a tenth of a
    100k x 100k link).

    Args:
        cache_limit: most complete pairs kept (16 bytes each); 0 keeps none.
    """

    def __init__(self, prepared: PreparedRecords, scheme: LevelScheme,
                 refined: frequency.RefinedScheme, freq: frequency.ValueFrequencies,
                 class_table: np.ndarray, cache_limit: int) -> None:
        #: Frequency bin of every record's value per segment (refines codes).
        self.record_bins = frequency.record_bins(freq, len(refined.n_identical))
        self._source = (prepared, scheme, refined, freq, class_table, self.record_bins)
        self._limit = cache_limit
        self._cache: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] | None = None

    def histogram_chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """``(class, base code, refined code, weight)`` of every pair (for the histogram)."""
        cache: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] | None = \
            [] if self._limit > 0 else None
        kept = 0
        for left, right, cls, base, codes, weight, complete in _identical_scored(*self._source):
            if cache is not None and complete:
                kept += len(left)
                if kept > self._limit:
                    cache = None
                else:
                    cache.append((left.astype(np.int32), right.astype(np.int32),
                                  cls.astype(np.int32), codes.astype(np.int32)))
            yield cls, base, codes, weight
        self._cache = cache

    def complete_chunks(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """``(left, right, class, refined code)`` of the pairs that may be selected."""
        if self._cache is not None:
            yield from self._cache
            return
        for left, right, cls, _base, codes, _weight, complete in _identical_scored(
                *self._source):
            if complete:  # sampled pairs stand for others; they are never selected
                yield left, right, cls, codes


def _all_identical_patterns(scheme: LevelScheme | frequency.RefinedScheme) -> np.ndarray:
    """Patterns where every segment is present and identical in both records.

    Identical encodings are the same person under any sensible model; small
    inputs give EM too little to learn even that. A missing segment breaks
    the rule: two records that only share sex and nationality are not
    "identical".
    """
    levels = scheme.decode(np.arange(scheme.n_patterns))
    if isinstance(scheme, frequency.RefinedScheme):
        return np.all(scheme.is_identical(levels), axis=1)
    return np.all(levels == 0, axis=1)
