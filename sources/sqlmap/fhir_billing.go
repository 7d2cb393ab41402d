package sqlmap

import (
	"fmt"
	"regexp"
	"strings"

	d4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	cipb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/charge_item_go_proto"
	invpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/invoice_go_proto"
)

// Bills: an Invoice row per bill and a ChargeItem row per line. The lines
// are tied to their bill when everything is built (finish), the way
// observations are tied to their report, so the two queries stay simple.

// systemPriceComponents is NRCeS's code system for the parts of a line's
// price (ndhm-price-components), which the InvoiceRecord profile binds.
const systemPriceComponents = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-price-components"

// defaultCurrency is what Indian bills are in unless the mapping says.
const defaultCurrency = "INR"

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

type invoice struct {
	key      string
	currency string
	inv      *invpb.Invoice
	// net and gross are the mapped totals; empty means computed.
	net, gross string
}

type charge struct {
	id, invoice string
	ci          *cipb.ChargeItem
	quantity    string
	// amount is the line's price before discount and taxes; empty when the
	// row gave neither an amount nor a unit price.
	amount, discount, cgst, sgst string
}

func (b *builder) invoice(r resolver, fs Fields, defs map[string]fieldDef, id, key string) (*bcrpb.ContainedResource, error) {
	in := &invoice{key: key, currency: defaultCurrency}
	if c := strings.ToUpper(r.text(fs, "currency")); c != "" {
		if !currencyRE.MatchString(c) {
			return nil, fmt.Errorf("invoice %s: currency %q is not an ISO 4217 code such as INR", key, c)
		}
		in.currency = c
	}
	inv := &invpb.Invoice{Id: &d4pb.Id{Value: id}, Subject: b.patient, Status: &invpb.Invoice_StatusCode{}}
	setEnum(inv.Status, r.code(fs, "status", defs["status"]))
	if n := r.text(fs, "number"); n != "" {
		ident := &d4pb.Identifier{Value: str(n)}
		if sys := r.text(fs, "number_system"); sys != "" {
			ident.System = uri(sys)
		}
		inv.Identifier = []*d4pb.Identifier{ident}
	}
	if k, ok := r.coding(fs, "type"); ok {
		inv.Type = cc(k)
	}
	if s, ok := r.time(fs, "date"); ok {
		inv.Date = dateTime(s)
	}
	if name := r.text(fs, "practitioner"); name != "" {
		inv.Participant = []*invpb.Invoice_Participant{{Actor: b.practitioner(name)}}
	}
	if n := r.text(fs, "note"); n != "" {
		inv.Note = []*d4pb.Annotation{{Text: &d4pb.Markdown{Value: n}}}
	}
	in.net, _ = r.decimal(fs, "total_net")
	in.gross, _ = r.decimal(fs, "total_gross")
	in.inv = inv
	b.invoices = append(b.invoices, in)
	return &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_Invoice{Invoice: inv}}, nil
}

func (b *builder) chargeItem(r resolver, fs Fields, defs map[string]fieldDef, id string) *bcrpb.ContainedResource {
	ci := &cipb.ChargeItem{Id: &d4pb.Id{Value: id}, Subject: b.patient, Status: &cipb.ChargeItem_StatusCode{}}
	setEnum(ci.Status, r.code(fs, "status", defs["status"]))
	if k, ok := r.coding(fs, "code"); ok {
		ci.Code = cc(k)
	}
	if k, ok := r.coding(fs, "product"); ok {
		ci.Product = &cipb.ChargeItem_ProductX{Choice: &cipb.ChargeItem_ProductX_CodeableConcept{CodeableConcept: cc(k)}}
	}
	c := &charge{id: id, invoice: r.text(fs, "invoice"), ci: ci}
	if q, ok := r.decimal(fs, "quantity"); ok {
		c.quantity = q
		ci.Quantity = &d4pb.Quantity{Value: &d4pb.Decimal{Value: q}}
		if u := r.text(fs, "unit"); u != "" {
			ci.Quantity.Unit = str(u)
		}
	}
	amount, hasAmount := r.decimal(fs, "amount")
	price, hasPrice := r.decimal(fs, "unit_price")
	switch {
	case hasAmount:
		c.amount = amount
	case hasPrice && c.quantity != "":
		c.amount = mulDecimals(c.quantity, price)
	}
	for _, p := range []struct {
		name string
		to   *string
	}{{"discount", &c.discount}, {"cgst", &c.cgst}, {"sgst", &c.sgst}} {
		if v, ok := r.decimal(fs, p.name); ok && !isZero(v) {
			*p.to = v
		}
	}
	if s, ok := r.time(fs, "occurrence"); ok {
		ci.Occurrence = &cipb.ChargeItem_OccurrenceX{Choice: &cipb.ChargeItem_OccurrenceX_DateTime{DateTime: dateTime(s)}}
	}
	if s, ok := r.time(fs, "entered"); ok {
		ci.EnteredDate = dateTime(s)
	}
	if name := r.text(fs, "practitioner"); name != "" {
		ci.Performer = []*cipb.ChargeItem_Performer{{Actor: b.practitioner(name)}}
	}
	if n := r.text(fs, "note"); n != "" {
		ci.Note = []*d4pb.Annotation{{Text: &d4pb.Markdown{Value: n}}}
	}
	b.charges = append(b.charges, c)
	b.linkEncounter = append(b.linkEncounter, func(e *d4pb.Reference) { ci.Context = e })
	return &bcrpb.ContainedResource{OneofResource: &bcrpb.ContainedResource_ChargeItem{ChargeItem: ci}}
}

// linkCharges makes each charge a line of its invoice: a charge names its
// invoice by key, and one that names none belongs to the only invoice, if
// there is exactly one. Each line's price components are the charge's base
// amount (NRCeS "Rate", with the quantity as factor), its discount and its
// CGST and SGST; the charge's priceOverride is its base amount. Totals the
// mapping did not give are summed from the lines: net is base less
// discounts, gross adds the taxes.
func (b *builder) linkCharges() {
	currencyOf := map[string]string{}
	for _, in := range b.invoices {
		var base, discounts, taxes []string
		for _, c := range b.charges {
			if c.invoice != in.key && (c.invoice != "" || len(b.invoices) != 1) {
				continue
			}
			currencyOf[c.id] = in.currency
			line := &invpb.Invoice_LineItem{
				Sequence:   &d4pb.PositiveInt{Value: uint32(len(in.inv.LineItem) + 1)},
				ChargeItem: &invpb.Invoice_LineItem_ChargeItemX{Choice: &invpb.Invoice_LineItem_ChargeItemX_Reference{Reference: ref(c.id)}},
			}
			add := func(typ, code, display, amount, factor string) {
				pc := &invpb.Invoice_LineItem_PriceComponent{
					Type:   &invpb.Invoice_LineItem_PriceComponent_TypeCode{},
					Code:   cc(concept{codings: []coding{{systemPriceComponents, code, display}}}),
					Amount: money(amount, in.currency),
				}
				setEnum(pc.Type, typ)
				if factor != "" {
					pc.Factor = &d4pb.Decimal{Value: factor}
				}
				line.PriceComponent = append(line.PriceComponent, pc)
			}
			if c.amount != "" {
				add("base", "01", "Rate", c.amount, c.quantity)
				base = append(base, c.amount)
			}
			if c.discount != "" {
				add("discount", "02", "Discount", c.discount, "")
				discounts = append(discounts, c.discount)
			}
			if c.cgst != "" {
				add("tax", "03", "CGST", c.cgst, "")
				taxes = append(taxes, c.cgst)
			}
			if c.sgst != "" {
				add("tax", "04", "SGST", c.sgst, "")
				taxes = append(taxes, c.sgst)
			}
			in.inv.LineItem = append(in.inv.LineItem, line)
		}
		net := in.net
		if net == "" {
			net = sumDecimals(base, discounts...)
		}
		gross := in.gross
		if gross == "" {
			gross = sumDecimals(append([]string{net}, taxes...))
		}
		in.inv.TotalNet = money(net, in.currency)
		in.inv.TotalGross = money(gross, in.currency)
	}
	for _, c := range b.charges {
		if c.amount == "" {
			continue
		}
		cur, ok := currencyOf[c.id]
		if !ok {
			cur = defaultCurrency
		}
		c.ci.PriceOverride = money(c.amount, cur)
	}
}

func money(amount, currency string) *d4pb.Money {
	return &d4pb.Money{Value: &d4pb.Decimal{Value: amount}, Currency: &d4pb.Money_CurrencyCode{Value: currency}}
}
