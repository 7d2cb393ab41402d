package nrces

import (
	"regexp"
	"strconv"

	c4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/codes_go_proto"
	d4 "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	cipb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/charge_item_go_proto"
	invpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/invoice_go_proto"
)

// Invoice and ChargeItem (profiles/Invoice.fsh, profiles/ChargeItem.fsh).
// Each line becomes a ChargeItem the Invoice line points to; the product is
// a CodeableConcept, which ChargeItem.product[x] allows, so no Medication
// resources are needed.

// fhirDecimal is R4's decimal.
var fhirDecimal = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

func (s *buildState) money(where, amount, currency string) *d4.Money {
	if !fhirDecimal.MatchString(amount) {
		s.fail("%s %q is not a decimal", where, amount)
	}
	return &d4.Money{Value: pDecimal(amount), Currency: &d4.Money_CurrencyCode{Value: currency}}
}

func (s *buildState) invoice(in Invoice) string {
	where := "Invoice"
	if in.Number == "" {
		s.fail("Invoice.Number is required (Invoice.identifier 1..1)")
	}
	if in.Type.System == "" || in.Type.Code == "" || in.Type.Display == "" {
		s.fail("Invoice.Type needs system, code and display (see BillingCode)")
	}
	if in.Date.IsZero() {
		s.fail("Invoice.Date is required")
	}
	if len(in.Lines) == 0 {
		s.fail("Invoice.Lines needs at least one line (Invoice.lineItem 1..*)")
	}
	st, err := enumCode[*invpb.Invoice_StatusCode](orDefault(in.Status, "issued"))
	if err != nil {
		s.fail("Invoice.Status: %w", err)
	}
	currency := orDefault(in.Currency, "INR")
	var lines []*invpb.Invoice_LineItem
	for i, l := range in.Lines {
		lw := where + ".Lines[" + strconv.Itoa(i) + "]"
		charge := s.chargeItem(l, lw)
		if len(l.Prices) == 0 {
			s.fail("%s.Prices needs at least one price component (lineItem.priceComponent 1..*)", lw)
		}
		li := &invpb.Invoice_LineItem{
			Sequence: pPositiveInt(i + 1),
			ChargeItem: &invpb.Invoice_LineItem_ChargeItemX{
				Choice: &invpb.Invoice_LineItem_ChargeItemX_Reference{Reference: pRef(charge)},
			},
		}
		for j, p := range l.Prices {
			pw := lw + ".Prices[" + strconv.Itoa(j) + "]"
			if p.Code.System == "" || p.Code.Code == "" || p.Code.Display == "" {
				s.fail("%s.Code needs system, code and display (see PriceComponentCode)", pw)
			}
			typ, err := enumCode[*invpb.Invoice_LineItem_PriceComponent_TypeCode](p.Type)
			if err != nil {
				s.fail("%s.Type: %w", pw, err)
			}
			li.PriceComponent = append(li.PriceComponent, &invpb.Invoice_LineItem_PriceComponent{
				Type:   typ,
				Code:   &d4.CodeableConcept{Coding: []*d4.Coding{pCoding(p.Code)}},
				Amount: s.money(pw+".Amount", p.Amount, currency),
			})
		}
		lines = append(lines, li)
	}
	id := s.newID()
	inv := &invpb.Invoice{
		Id:          pID(id),
		Meta:        pMeta("Invoice"),
		Identifier:  []*d4.Identifier{{Value: pStr(in.Number)}},
		Status:      st,
		Type:        &d4.CodeableConcept{Coding: []*d4.Coding{pCoding(in.Type)}},
		Subject:     pRef(s.patientURL),
		Date:        pDateTime(in.Date, s.loc()),
		Participant: []*invpb.Invoice_Participant{{Actor: pRef(s.authorURL)}},
		Issuer:      pRef(s.orgURL),
		LineItem:    lines,
		TotalNet:    s.money("Invoice.TotalNet", in.TotalNet, currency),
		TotalGross:  s.money("Invoice.TotalGross", in.TotalGross, currency),
		Note:        pAnnotations(in.Note),
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Invoice{Invoice: inv}})
}

func (s *buildState) chargeItem(l InvoiceLine, where string) string {
	if l.ChargeCode.System == "" || l.ChargeCode.Code == "" || l.ChargeCode.Display == "" {
		s.fail("%s.ChargeCode needs system, code and display (see BillingCode)", where)
	}
	s.requireCode(where+".Product", l.Product)
	if l.Quantity.Value == "" {
		s.fail("%s.Quantity is required (ChargeItem.quantity 1..1)", where)
	}
	q := l.Quantity
	id := s.newID()
	ci := &cipb.ChargeItem{
		Id:       pID(id),
		Meta:     pMeta("ChargeItem"),
		Status:   &cipb.ChargeItem_StatusCode{Value: c4.ChargeItemStatusCode_BILLED},
		Code:     &d4.CodeableConcept{Coding: []*d4.Coding{pCoding(l.ChargeCode)}},
		Subject:  pRef(s.patientURL),
		Context:  pRef(s.encounterURL),
		Quantity: pQuantity(&q),
		Product: &cipb.ChargeItem_ProductX{
			Choice: &cipb.ChargeItem_ProductX_CodeableConcept{CodeableConcept: pConcept(l.Product)},
		},
		PerformingOrganization: pRef(s.orgURL),
	}
	return s.add(id, &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_ChargeItem{ChargeItem: ci}})
}
