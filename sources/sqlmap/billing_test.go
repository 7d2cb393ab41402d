package sqlmap_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/fhir/go/jsonformat/fhirvalidate"
	d4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	cipb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/charge_item_go_proto"
	invpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/invoice_go_proto"
	procpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/procedure_go_proto"
	"github.com/google/go-cmp/cmp"

	"github.com/sangamhealth/sangam/sources"
)

// TestProceduresOfAnAdmission reads gamma's admission: each procedure row
// is a Procedure with its codings (SNOMED CT and the local code, from a
// list of codings), its performed period, surgeon and encounter.
func TestProceduresOfAnAdmission(t *testing.T) {
	o, _ := setup(t)
	c := open(t, o, "gamma.yaml")
	ctx := context.Background()
	if err := c.Check(ctx); err != nil {
		t.Fatalf("gamma mapping does not fit its schema: %v", err)
	}
	content, err := c.Fetch(ctx, sources.ContextRef{Type: "admission", LocalID: "IP-7"})
	if err != nil {
		t.Fatal(err)
	}
	validateAll(t, content)
	var encounter string
	var procs []*procpb.Procedure
	practitioners := map[string]string{}
	for _, r := range content.Resources {
		switch {
		case r.GetEncounter() != nil:
			encounter = r.GetEncounter().GetId().GetValue()
		case r.GetProcedure() != nil:
			procs = append(procs, r.GetProcedure())
		case r.GetPractitioner() != nil:
			practitioners[r.GetPractitioner().GetId().GetValue()] = r.GetPractitioner().GetName()[0].GetText().GetValue()
		}
	}
	if len(procs) != 2 {
		t.Fatalf("got %d procedures, want 2", len(procs))
	}
	lap := procs[0]
	if got, want := codings(lap.GetCode()), []string{
		"http://snomed.info/sct|6025007|Laparoscopic appendicectomy",
		"https://gamma.example/procedure|LAPAPP|Laparoscopic appendicectomy",
	}; !cmp.Equal(got, want) {
		t.Errorf("procedure code = %v, want %v", got, want)
	}
	if lap.GetStatus().GetValue().String() != "COMPLETED" {
		t.Errorf("status = %v, want completed", lap.GetStatus())
	}
	period := lap.GetPerformed().GetPeriod()
	if period == nil || period.GetStart().GetTimezone() != "+05:30" {
		t.Fatalf("performed = %v, want a period in local time", lap.GetPerformed())
	}
	if got := period.GetEnd().GetValueUs() - period.GetStart().GetValueUs(); got != 65*60*1e6 {
		t.Errorf("performed period lasts %d µs, want 65 minutes", got)
	}
	if got := lap.GetEncounter().GetUri().GetValue(); got != "urn:uuid:"+encounter || encounter == "" {
		t.Errorf("procedure encounter = %q, want urn:uuid:%s", got, encounter)
	}
	if got := lap.GetSubject().GetUri().GetValue(); got != "urn:uuid:"+content.PatientID {
		t.Errorf("procedure subject = %q", got)
	}
	surgeon := strings.TrimPrefix(lap.GetPerformer()[0].GetActor().GetUri().GetValue(), "urn:uuid:")
	if practitioners[surgeon] != "Dr. Prashanth Shetty" {
		t.Errorf("performer %s is %q, want the surgeon's Practitioner", surgeon, practitioners[surgeon])
	}
	if lap.GetBodySite()[0].GetText().GetValue() != "Appendix" {
		t.Errorf("body site = %v", lap.GetBodySite())
	}
	dressing := procs[1]
	// No SNOMED CT code in the row: the local coding alone, and a
	// performed time without an end is a dateTime, not a period.
	if got := codings(dressing.GetCode()); len(got) != 1 || !strings.HasPrefix(got[0], "https://gamma.example/procedure|DRESS|") {
		t.Errorf("dressing code = %v", got)
	}
	if dressing.GetPerformed().GetDateTime() == nil || len(dressing.GetBodySite()) != 0 {
		t.Errorf("dressing performed %v, body site %v", dressing.GetPerformed(), dressing.GetBodySite())
	}
}

// TestBillBecomesInvoiceWithChargeItems reads gamma's bill B-1: lines priced
// by amount or by quantity times rate, a discount and GST, totals summed
// from the lines, every line a ChargeItem the Invoice points at.
func TestBillBecomesInvoiceWithChargeItems(t *testing.T) {
	o, _ := setup(t)
	c := open(t, o, "gamma.yaml")
	ctx := context.Background()
	content, err := c.Fetch(ctx, sources.ContextRef{Type: "bill", LocalID: "B-1"})
	if err != nil {
		t.Fatal(err)
	}
	if content.CareContext.HIType != sources.Invoice || content.CareContext.Display != "IP bill B-1" {
		t.Errorf("care context = %+v", content.CareContext)
	}
	validateAll(t, content)
	var inv *invpb.Invoice
	var encounter string
	charges := map[string]*cipb.ChargeItem{}
	var order []string
	for _, r := range content.Resources {
		switch {
		case r.GetInvoice() != nil:
			inv = r.GetInvoice()
		case r.GetEncounter() != nil:
			encounter = r.GetEncounter().GetId().GetValue()
			// The bill names the stay by the admission number.
			if id := r.GetEncounter().GetIdentifier(); len(id) != 1 || id[0].GetValue().GetValue() != "IP-7" || id[0].GetSystem().GetValue() != "https://gamma.example/admission" {
				t.Errorf("bill's encounter identifier = %v, want IP-7 in https://gamma.example/admission", id)
			}
		case r.GetChargeItem() != nil:
			id := r.GetChargeItem().GetId().GetValue()
			charges[id] = r.GetChargeItem()
			order = append(order, id)
		}
	}
	if inv == nil || len(charges) != 4 {
		t.Fatalf("invoice %v, %d charge items; want one invoice and 4 charges", inv != nil, len(charges))
	}
	if id := inv.GetIdentifier()[0]; id.GetValue().GetValue() != "B-1" || id.GetSystem().GetValue() != "https://gamma.example/bill" {
		t.Errorf("invoice identifier = %v", id)
	}
	if inv.GetStatus().GetValue().String() != "ISSUED" {
		t.Errorf("invoice status = %v", inv.GetStatus())
	}
	if got := codings(inv.GetType()); !cmp.Equal(got, []string{"https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-billing-codes|02|IPD"}) {
		t.Errorf("invoice type = %v", got)
	}
	if inv.GetDate() == nil || inv.GetSubject().GetUri().GetValue() != "urn:uuid:"+content.PatientID {
		t.Errorf("invoice date %v, subject %v", inv.GetDate(), inv.GetSubject())
	}
	// Totals: 4500.00 + 25000.00 + 350.00 + 125.00 less 35.00, then
	// 3.13 + 3.13 of GST.
	if got := moneyText(inv.GetTotalNet()); got != "29940.00 INR" {
		t.Errorf("total net = %s, want 29940.00 INR", got)
	}
	if got := moneyText(inv.GetTotalGross()); got != "29946.26 INR" {
		t.Errorf("total gross = %s, want 29946.26 INR", got)
	}

	type component struct{ Type, Code, Amount, Factor string }
	wantLines := [][]component{
		{{"BASE", "01", "4500.00 INR", "3"}},
		{{"BASE", "01", "25000.00 INR", "1"}},
		{{"BASE", "01", "350.00 INR", "1"}, {"DISCOUNT", "02", "35.00 INR", ""}},
		{{"BASE", "01", "125.00 INR", "10"}, {"TAX", "03", "3.13 INR", ""}, {"TAX", "04", "3.13 INR", ""}},
	}
	if len(inv.GetLineItem()) != len(wantLines) {
		t.Fatalf("%d line items, want %d", len(inv.GetLineItem()), len(wantLines))
	}
	for i, li := range inv.GetLineItem() {
		if li.GetSequence().GetValue() != uint32(i+1) {
			t.Errorf("line %d sequence %d", i, li.GetSequence().GetValue())
		}
		target := strings.TrimPrefix(li.GetChargeItem().GetReference().GetUri().GetValue(), "urn:uuid:")
		if target != order[i] {
			t.Errorf("line %d points at %s, want the %d-th charge item %s", i+1, target, i+1, order[i])
		}
		var got []component
		for _, pc := range li.GetPriceComponent() {
			got = append(got, component{pc.GetType().GetValue().String(), pc.GetCode().GetCoding()[0].GetCode().GetValue(),
				moneyText(pc.GetAmount()), pc.GetFactor().GetValue()})
			if sys := pc.GetCode().GetCoding()[0].GetSystem().GetValue(); sys != "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-price-components" {
				t.Errorf("price component system %s", sys)
			}
		}
		if diff := cmp.Diff(wantLines[i], got); diff != "" {
			t.Errorf("line %d price components (-want +got):\n%s", i+1, diff)
		}
	}

	room := charges[order[0]]
	if got := codings(room.GetCode()); !cmp.Equal(got, []string{
		"https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-billing-codes|02|IPD",
		"https://gamma.example/service-group|ROOM|",
	}) {
		t.Errorf("room charge code = %v", got)
	}
	if q := room.GetQuantity(); q.GetValue().GetValue() != "3" || q.GetUnit().GetValue() != "day" {
		t.Errorf("room quantity = %v", q)
	}
	if got := moneyText(room.GetPriceOverride()); got != "4500.00 INR" {
		t.Errorf("room price = %s, want quantity times rate", got)
	}
	if room.GetStatus().GetValue().String() != "BILLED" || room.GetOccurrence().GetDateTime() == nil {
		t.Errorf("room status %v occurrence %v", room.GetStatus(), room.GetOccurrence())
	}
	if got := room.GetContext().GetUri().GetValue(); got != "urn:uuid:"+encounter || encounter == "" {
		t.Errorf("charge context = %q, want the admission's encounter", got)
	}
	pkg := charges[order[1]].GetProduct().GetCodeableConcept()
	if got := codings(pkg); !cmp.Equal(got, []string{"https://gamma.example/package|SG039A|Appendicectomy package (demo code)"}) {
		t.Errorf("package product = %v", got)
	}
	if got := codings(charges[order[0]].GetProduct().GetCodeableConcept()); !cmp.Equal(got, []string{"https://gamma.example/item|RM-GEN|General ward bed"}) {
		t.Errorf("room product = %v (an unmapped item keeps its local code)", got)
	}

	// The OP bill maps its totals: they are taken as the source states them.
	op, err := c.Fetch(ctx, sources.ContextRef{Type: "bill", LocalID: "B-3"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range op.Resources {
		if i := r.GetInvoice(); i != nil {
			if moneyText(i.GetTotalNet()) != "500.00 INR" || codings(i.GetType())[0] != "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-billing-codes|03|OPD" {
				t.Errorf("OP bill: net %s, type %v", moneyText(i.GetTotalNet()), codings(i.GetType()))
			}
		}
	}

	// Ids are stable: fetching again gives the same resources.
	again, err := c.Fetch(ctx, sources.ContextRef{Type: "bill", LocalID: "B-1"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(content), ids(again)); diff != "" {
		t.Errorf("refetch gave other ids (-first +second):\n%s", diff)
	}
}

// TestLinesFindTheirBill fetches a stay holding two bills: each line goes
// to the Invoice its row names, whatever order the rows come in.
func TestLinesFindTheirBill(t *testing.T) {
	o, _ := setup(t)
	c := open(t, o, "gamma.yaml")
	content, err := c.Fetch(context.Background(), sources.ContextRef{Type: "stay_bills", LocalID: "IP-7"})
	if err != nil {
		t.Fatal(err)
	}
	validateAll(t, content)
	chargeIDs := map[string]bool{}
	lines := map[string]int{}
	totals := map[string]string{}
	status := map[string]string{}
	var lineTargets []string
	for _, r := range content.Resources {
		if ci := r.GetChargeItem(); ci != nil {
			chargeIDs[ci.GetId().GetValue()] = true
		}
		if inv := r.GetInvoice(); inv != nil {
			no := inv.GetIdentifier()[0].GetValue().GetValue()
			lines[no] = len(inv.GetLineItem())
			totals[no] = moneyText(inv.GetTotalNet())
			status[no] = inv.GetStatus().GetValue().String()
			for _, li := range inv.GetLineItem() {
				lineTargets = append(lineTargets, strings.TrimPrefix(li.GetChargeItem().GetReference().GetUri().GetValue(), "urn:uuid:"))
			}
		}
	}
	if diff := cmp.Diff(map[string]int{"B-1": 4, "B-2": 1}, lines); diff != "" {
		t.Errorf("lines per bill (-want +got):\n%s", diff)
	}
	// No discount or tax is mapped here: net is the sum of the bases.
	if diff := cmp.Diff(map[string]string{"B-1": "29975.00 INR", "B-2": "500.00 INR"}, totals); diff != "" {
		t.Errorf("net totals (-want +got):\n%s", diff)
	}
	if status["B-2"] != "CANCELLED" {
		t.Errorf("B-2 status = %s, want cancelled", status["B-2"])
	}
	for _, id := range lineTargets {
		if !chargeIDs[id] {
			t.Errorf("a line points at %s, which is not a charge item of the care context", id)
		}
	}
	if len(lineTargets) != len(chargeIDs) {
		t.Errorf("%d lines for %d charge items", len(lineTargets), len(chargeIDs))
	}
}

func validateAll(t *testing.T, c *sources.Content) {
	t.Helper()
	for _, r := range c.Resources {
		if err := fhirvalidate.Validate(r); err != nil {
			t.Errorf("%s: invalid resource: %v", c.CareContext.Reference, err)
		}
	}
}

func codings(c *d4pb.CodeableConcept) []string {
	var out []string
	for _, k := range c.GetCoding() {
		out = append(out, k.GetSystem().GetValue()+"|"+k.GetCode().GetValue()+"|"+k.GetDisplay().GetValue())
	}
	return out
}

func moneyText(m *d4pb.Money) string {
	if m == nil {
		return "<nil>"
	}
	return m.GetValue().GetValue() + " " + m.GetCurrency().GetValue()
}

func ids(c *sources.Content) []string {
	var out []string
	for _, r := range c.Resources {
		m := r.ProtoReflect()
		fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("oneof_resource"))
		out = append(out, m.Get(fd).Message().Interface().(interface{ GetId() *d4pb.Id }).GetId().GetValue())
	}
	return out
}
