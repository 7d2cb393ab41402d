package nrces

import (
	"fmt"
	"strings"
)

func (n *normaliser) observation(e *Entry, r *inResource, path string) {
	e.Kind = KindObservation
	e.Text = conceptText(r.Code)
	e.Codes = n.codes(r.Code, path+".code")
	d := &ObservationDetail{
		ObservationValue: n.observationValue(r.inValue, r.Interpretation, r.ReferenceRange, r.DataAbsentReason.list(), path),
		LOINC:            hasSystem(e.Codes, systemLOINC),
		Category:         conceptTexts(r.Category),
	}
	for i, c := range r.Component {
		cpath := fmt.Sprintf("%s.component[%d]", path, i)
		codes := n.codes(c.Code.list(), cpath+".code")
		d.Components = append(d.Components, ObservationComponent{
			Text:             conceptText(c.Code.list()),
			Codes:            codes,
			LOINC:            hasSystem(codes, systemLOINC),
			ObservationValue: n.observationValue(c.inValue, c.Interpretation, c.ReferenceRange, c.DataAbsentReason.list(), cpath),
		})
	}
	for _, m := range r.HasMember {
		d.Members = append(d.Members, refLabel(&m))
	}
	e.Observation = d
	n.setTime(e, path, timeChoice{"effectiveDateTime", r.EffectiveDateTime}, timeChoice{"effectivePeriod", r.EffectivePeriod},
		timeChoice{"effectiveInstant", r.EffectiveInstant}, timeChoice{"issued", r.Issued})
}

func (n *normaliser) observationValue(v inValue, interp inConcepts, ranges []inRefRange, absent inConcepts, path string) ObservationValue {
	out := ObservationValue{
		Interpretation: conceptTexts(interp),
		Absent:         conceptText(absent),
	}
	switch {
	case v.ValueQuantity != nil:
		out.Quantity = n.measure(v.ValueQuantity, path+".valueQuantity")
	case v.ValueString != nil:
		out.Text = strings.TrimSpace(*v.ValueString)
	case v.ValueCodeableConcept != nil:
		out.Codes = n.codes(v.ValueCodeableConcept.list(), path+".valueCodeableConcept")
		out.Text = conceptText(v.ValueCodeableConcept.list())
	case v.ValueBoolean != nil:
		out.Boolean = v.ValueBoolean
	case v.ValueInteger != "":
		out.Quantity = &Measure{Value: v.ValueInteger}
	case v.ValueRange != nil:
		out.Range = &RefRange{Low: n.measure(v.ValueRange.Low, path+".valueRange.low"), High: n.measure(v.ValueRange.High, path+".valueRange.high")}
	case v.ValueRatio != nil:
		out.Text = measureText(n.measure(v.ValueRatio.Numerator, path)) + " / " + measureText(n.measure(v.ValueRatio.Denominator, path))
	case v.ValueDateTime != "":
		out.Text = v.ValueDateTime
		n.time(v.ValueDateTime, path+".valueDateTime")
	case v.ValuePeriod != nil:
		out.Text = joinNonEmpty(" – ", v.ValuePeriod.Start, v.ValuePeriod.End)
	case v.ValueTime != "":
		out.Text = v.ValueTime
	}
	for i, rr := range ranges {
		rpath := fmt.Sprintf("%s.referenceRange[%d]", path, i)
		out.ReferenceRange = append(out.ReferenceRange, RefRange{
			Low:  n.measure(rr.Low, rpath+".low"),
			High: n.measure(rr.High, rpath+".high"),
			Text: strings.TrimSpace(rr.Text),
			Type: conceptText(rr.Type.list()),
		})
	}
	return out
}

// measure converts a Quantity, normalising a UCUM system alias.
func (n *normaliser) measure(q *inQuantity, path string) *Measure {
	if q == nil {
		return nil
	}
	m := &Measure{Value: q.Value, Comparator: q.Comparator, Unit: strings.TrimSpace(q.Unit), Code: strings.TrimSpace(string(q.Code))}
	sys, changed := canonicalSystem(q.System)
	if changed {
		n.probs.fold(severityWarning, "code-system-alias", q.System, path,
			fmt.Sprintf("unit system %q read as %s", q.System, sys))
	}
	m.System = sys
	if m.Unit == "" && sys == systemUCUM {
		m.Unit = m.Code
	}
	return m
}

func hasSystem(cs []Coded, system string) bool {
	for _, c := range cs {
		if c.System == system {
			return true
		}
	}
	return false
}
