package patients

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// matchQuality counts what ingesting a generated population did, against
// the known truth.
type matchQuality struct {
	records int
	// shouldLink counts records whose person already had a record in the
	// index when they arrived: the ones a perfect matcher links.
	shouldLink int
	// autoLinks are records linked without a person (ABHA or score);
	// correct are those linked to a record of the same person.
	autoLinks, correct           int
	scoreLinks, scoreCorrect     int
	reviews, reviewsOnTruePerson int
	elapsed                      time.Duration
	// wrong and missed describe a few errors, for tuning.
	wrong, missed []string
}

func (q matchQuality) precision() float64 { return ratio(q.correct, q.autoLinks) }
func (q matchQuality) recall() float64    { return ratio(q.correct, q.shouldLink) }
func (q matchQuality) scorePrecision() float64 {
	return ratio(q.scoreCorrect, q.scoreLinks)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func (q matchQuality) String() string {
	return fmt.Sprintf("%d records: auto-links %d (precision %.4f, recall %.4f; by score %d, precision %.4f), reviews %d (%.1f%% of records, %d on the true person), %.0f records/s",
		q.records, q.autoLinks, q.precision(), q.recall(), q.scoreLinks, q.scorePrecision(),
		q.reviews, 100*ratio(q.reviews, q.records), q.reviewsOnTruePerson, float64(q.records)/q.elapsed.Seconds())
}

// measureMatching ingests pop into f's tenant in order and compares every
// decision with the truth.
func measureMatching(t testing.TB, f *fixture, pop population) matchQuality {
	t.Helper()
	var q matchQuality
	seen := map[int]int{}
	truthOfLink := map[string]int{}
	recordOfLink := map[string]SourceRecord{}
	start := time.Now()
	for _, r := range pop.records {
		truth := pop.truth[recordKey(r)]
		should := seen[truth] > 0
		d := f.ingest(t, r)
		truthOfLink[d.LinkID] = truth
		recordOfLink[d.LinkID] = r
		seen[truth]++
		q.records++
		if should {
			q.shouldLink++
		}
		switch d.Outcome {
		case OutcomeAutoLinked, OutcomeLinkedABHA:
			q.autoLinks++
			ok := truthOfLink[d.MatchedLinkID] == truth
			if ok {
				q.correct++
			} else if len(q.wrong) < 20 {
				q.wrong = append(q.wrong, fmt.Sprintf("%s %.1f: %s  <->  %s", d.Outcome, d.Score, describe(r), describe(recordOfLink[d.MatchedLinkID])))
			}
			if d.Outcome == OutcomeAutoLinked {
				q.scoreLinks++
				if ok {
					q.scoreCorrect++
				}
			}
		case OutcomeReview:
			q.reviews++
			if truthOfLink[d.MatchedLinkID] == truth {
				q.reviewsOnTruePerson++
			}
		}
		if should && d.Outcome != OutcomeAutoLinked && d.Outcome != OutcomeLinkedABHA && len(q.missed) < 40 {
			// The closest earlier record of the same person.
			var mate SourceRecord
			for id, tr := range truthOfLink {
				if tr == truth && id != d.LinkID {
					mate = recordOfLink[id]
					break
				}
			}
			best := "(none)"
			if d.MatchedLinkID != "" {
				best = describe(recordOfLink[d.MatchedLinkID])
				if truthOfLink[d.MatchedLinkID] == truth {
					best += " (same person)"
				}
			}
			q.missed = append(q.missed, fmt.Sprintf("%s %.1f: %s  <->  %s; best %s", d.Outcome, d.Score, describe(r), describe(mate), best))
		}
	}
	q.elapsed = time.Since(start)
	return q
}

func describe(r SourceRecord) string {
	b := dateText(r.BirthDate)
	if b == "" && r.BirthYear != 0 {
		b = fmt.Sprint(r.BirthYear)
	}
	return fmt.Sprintf("%q %s %s %s %s %s", r.Name, r.Gender, b, r.Mobile, r.PinCode, r.ABHANumber)
}

func (f *fixture) sourceIDs() []string {
	var ids []string
	for _, id := range f.source {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// The targets of issue 6: automatic links must be right at least 99 times
// in 100 and find at least 95 in 100 of the records that have a match.
const (
	targetPrecision = 0.99
	targetRecall    = 0.95
)

// TestMatchingQuality is the fast guard of the matcher's quality: a
// population of 600 people (about 1,500 records) must meet the
// targets, so a change to names, weights or thresholds that breaks them
// fails `make test`. BenchmarkMatching measures the full-size population.
func TestMatchingQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests 1,500 records")
	}
	f := setup(t)
	pop := generatePopulation(7, 600, f.sourceIDs())
	q := measureMatching(t, f, pop)
	t.Log(q)
	if q.precision() < targetPrecision || q.recall() < targetRecall || q.scorePrecision() < targetPrecision {
		t.Errorf("matching quality below target (precision >= %.2f, recall >= %.2f): %s", targetPrecision, targetRecall, q)
		for _, w := range q.wrong {
			t.Log("wrong link: ", w)
		}
		for _, m := range q.missed {
			t.Log("missed: ", m)
		}
	}
}

// BenchmarkMatching ingests a generated population of 2,000 people
// (about 5,000 records) and reports the precision and recall of automatic
// links, the share of records sent to review and the ingest rate.
func BenchmarkMatching(b *testing.B) {
	var q matchQuality
	for b.Loop() {
		b.StopTimer()
		// A fresh tenant each round; the same people (same seed) filed
		// under its source systems.
		f := setup(b)
		pop := generatePopulation(2026, 2000, f.sourceIDs())
		b.StartTimer()
		q = measureMatching(b, f, pop)
	}
	b.ReportMetric(q.precision(), "precision")
	b.ReportMetric(q.recall(), "recall")
	b.ReportMetric(q.scorePrecision(), "score-precision")
	b.ReportMetric(100*ratio(q.reviews, q.records), "review-%")
	b.ReportMetric(float64(q.records)/q.elapsed.Seconds(), "records/s")
	b.Log(q)
	if q.precision() < targetPrecision || q.recall() < targetRecall {
		for _, w := range q.wrong {
			b.Log("wrong link: ", w)
		}
		for _, m := range q.missed {
			b.Log("missed: ", m)
		}
		b.Errorf("matching quality below target: %s", q)
	}
}
