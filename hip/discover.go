package hip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/sangamhealth/sangam/abdm"
	"github.com/sangamhealth/sangam/bridge"
	"github.com/sangamhealth/sangam/patients"
	"github.com/sangamhealth/sangam/sources"
)

const routeDiscover = "hip.discover"

// DefaultDiscoverTimeout is how long discovery waits for the facility's
// sources, all queried at once.
const DefaultDiscoverTimeout = 3 * time.Second

// M2Patients finds the master patient a discovery request describes and
// reads one back when the patient links what discovery offered.
type M2Patients interface {
	Find(ctx context.Context, tenant string, q patients.Query) (patients.Match, error)
	Patient(ctx context.Context, tenant, id string) (patients.Patient, error)
}

// discoverQuery turns the gateway's patient into an index query. ABHA
// identifiers and the mobile are those ABDM verified; MR numbers are the
// patient's claim, scoped to this facility.
func discoverQuery(p abdm.DiscoverPatient, facilityID string) patients.Query {
	q := patients.Query{Name: p.Name, Gender: string(p.Gender), BirthYear: p.YearOfBirth, FacilityID: facilityID}
	if strings.Contains(p.ID, "@") {
		q.ABHAAddress = p.ID
	}
	for _, id := range p.VerifiedIdentifiers {
		switch strings.ToUpper(string(id.Type)) {
		case string(abdm.IdentifierABHANumber):
			q.ABHANumber = id.Value
		case string(abdm.IdentifierABHAAddress), "ABHAADDRESS":
			q.ABHAAddress = id.Value
		case string(abdm.IdentifierMobile):
			q.Mobile = id.Value
		}
	}
	for _, id := range p.UnverifiedIdentifiers {
		if strings.EqualFold(string(id.Type), string(abdm.IdentifierMR)) && id.Value != "" {
			q.LocalIDs = append(q.LocalIDs, id.Value)
		}
	}
	return q
}

// discover answers care-context discovery: the matched patient's unlinked
// care contexts at this facility, per hiType, from every source that
// answers within the deadline. Sources that do not are left out and
// recorded in hip_discovery_misses.
func (m *M2) discover(ctx context.Context, tx pgx.Tx, cb *bridge.Callback) error {
	var req abdm.DiscoverRequest
	if err := cb.Decode(&req); err != nil {
		return river.JobCancel(err)
	}
	reply := abdm.OnDiscoverRequest{TransactionID: req.TransactionID, Response: abdm.ResponseRef{RequestID: cb.RequestID}}
	send := func() error {
		_, err := m.cfg.Bridge.Send(ctx, tx, bridge.OutboundCall{
			Tenant: cb.Tenant, Path: abdm.PathOnDiscover, HIPID: cb.ServiceID, Body: reply, RespondsTo: cb.RequestID,
		})
		if err != nil {
			return fmt.Errorf("queueing on-discover: %w", err)
		}
		return nil
	}
	match, err := m.cfg.Patients.Find(ctx, cb.Tenant, discoverQuery(req.Patient, cb.FacilityID))
	if err != nil {
		return fmt.Errorf("matching discovery patient: %w", err)
	}
	switch match.Status {
	case patients.MatchExact:
	case patients.MatchAmbiguous:
		// Never show anyone's records when we cannot tell who is asking.
		reply.Error = &abdm.ErrorDetail{Code: "ABDM-1010", Message: "Patient not found: more than one patient matches; please visit the facility"}
		return send()
	default:
		reply.Error = &abdm.ErrorDetail{Code: "ABDM-1010", Message: "Patient not found"}
		return send()
	}

	found, misses := m.discoverSources(ctx, cb.Tenant, cb.FacilityID, match.Patient)
	for _, miss := range misses {
		if _, err := tx.Exec(ctx, `INSERT INTO hip_discovery_misses (tenant_id, facility_id, source_system_id, transaction_id, reason)
			VALUES ($1, $2, $3, $4, $5)`, cb.Tenant, cb.FacilityID, miss.system, req.TransactionID, miss.reason); err != nil {
			return fmt.Errorf("recording discovery miss: %w", err)
		}
	}
	linked, err := discoverLinked(ctx, tx, cb.FacilityID)
	if err != nil {
		return err
	}
	byType := map[abdm.HIType][]abdm.CareContext{}
	for _, f := range found {
		// Register what discovery found so that linking and transfers
		// can resolve it.
		if _, _, err := sources.UpsertCareContext(ctx, tx, f.system, f.cc, sources.FoundViaDiscovery); err != nil {
			return fmt.Errorf("registering discovered care context: %w", err)
		}
		if linked[f.cc.Reference] {
			continue
		}
		t := abdm.HIType(f.cc.HIType)
		byType[t] = append(byType[t], abdm.CareContext{ReferenceNumber: f.cc.Reference, Display: f.cc.Display})
	}
	if len(byType) == 0 {
		reply.Error = &abdm.ErrorDetail{Code: "ABDM-1001", Message: "No data found: no unlinked care contexts"}
		return send()
	}
	types := make([]string, 0, len(byType))
	for t := range byType {
		types = append(types, string(t))
	}
	sort.Strings(types)
	for _, t := range types {
		reply.Patient = append(reply.Patient, abdm.NewPatientCareContexts(match.Patient.ID, match.Patient.Summary.Name, abdm.HIType(t), byType[abdm.HIType(t)]...))
	}
	for _, by := range match.MatchedBy {
		reply.MatchedBy = append(reply.MatchedBy, abdm.IdentifierType(by))
	}
	return send()
}

type discoverFound struct {
	system string
	cc     sources.CareContext
}

type discoverMiss struct {
	system, reason string
}

// discoverSources asks every source holding one of the patient's records
// at the facility for its care contexts, in parallel, under one deadline.
func (m *M2) discoverSources(ctx context.Context, tenant, facilityID string, p patients.Patient) ([]discoverFound, []discoverMiss) {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.DiscoverTimeout)
	defer cancel()
	var (
		mu     sync.Mutex
		found  []discoverFound
		misses []discoverMiss
		wg     sync.WaitGroup
	)
	to := m.cfg.Now().Add(24 * time.Hour)
	for _, l := range p.Links {
		if l.FacilityID != facilityID {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ccs []sources.CareContext
			mon, err := m.cfg.Sources.Source(ctx, tenant, l.SourceSystemID)
			if err == nil {
				ccs, err = mon.CareContexts(ctx, l.LocalID, time.Unix(0, 0), to)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				reason := "source failed"
				if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
					reason = "source missed the discovery deadline"
				}
				m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "source left out of discovery",
					slog.String("source_system", l.SourceSystemID), slog.String("reason", reason), slog.String("error", err.Error()))
				misses = append(misses, discoverMiss{system: l.SourceSystemID, reason: reason})
				return
			}
			for _, c := range ccs {
				found = append(found, discoverFound{system: l.SourceSystemID, cc: c})
			}
		}()
	}
	wg.Wait()
	sort.Slice(found, func(i, j int) bool { return found[i].cc.Reference < found[j].cc.Reference })
	return found, misses
}

// discoverLinked lists the facility's care contexts already linked to an
// ABHA, by HIP-initiated or user-initiated linking.
func discoverLinked(ctx context.Context, tx pgx.Tx, facilityID string) (map[string]bool, error) {
	rows, err := tx.Query(ctx, `
		SELECT reference FROM hip_care_context_links WHERE facility_id::text = $1 AND state = 'linked'
		UNION SELECT reference FROM hip_user_linked WHERE facility_id::text = $1`, facilityID)
	if err != nil {
		return nil, fmt.Errorf("listing linked care contexts: %w", err)
	}
	refs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing linked care contexts: %w", err)
	}
	out := make(map[string]bool, len(refs))
	for _, r := range refs {
		out[r] = true
	}
	return out, nil
}
