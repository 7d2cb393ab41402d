package claims

import "context"

// The workflow's setup pass-throughs: hospital IT records the tenant's
// payers and each facility's empanelments from the administration pages,
// which hold the workflow rather than the service.

// SetPayer adds or changes one of the tenant's payers (Service.SetPayer).
func (w *Workflow) SetPayer(ctx context.Context, tenant string, p Payer) (Payer, error) {
	return w.svc.SetPayer(ctx, tenant, p)
}

// SetEmpanelment records or changes a facility's empanelment with a payer
// (Service.SetEmpanelment).
func (w *Workflow) SetEmpanelment(ctx context.Context, tenant string, e Empanelment) (Empanelment, error) {
	return w.svc.SetEmpanelment(ctx, tenant, e)
}
