package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/google/uuid"
)

// controlMux serves the control API (see the package documentation).
func (g *Gateway) controlMux() *http.ServeMux {
	mux := http.NewServeMux()
	const p = "/_sandbox/gateway"
	mux.HandleFunc("GET "+p+"/messages", g.listMessages)
	mux.HandleFunc("GET "+p+"/deliveries", g.listDeliveries)
	mux.HandleFunc("POST "+p+"/deliveries", g.triggerDelivery)
	mux.HandleFunc("POST "+p+"/deliveries/{request_id}/redeliver", g.redeliver)
	mux.HandleFunc("GET "+p+"/faults", g.showFaults)
	mux.HandleFunc("PUT "+p+"/faults", g.putFaults)
	mux.HandleFunc("PUT "+p+"/faults/{client}", g.putFaults)
	mux.HandleFunc("DELETE "+p+"/faults", g.deleteFaults)
	mux.HandleFunc("DELETE "+p+"/faults/{client}", g.deleteFaults)
	mux.HandleFunc("GET "+p+"/clients", g.listClients)
	mux.HandleFunc("POST "+p+"/clients/{client}/revoke-tokens", g.revokeTokens)
	mux.HandleFunc("POST "+p+"/reset", g.reset)
	return mux
}

func controlError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

func filterFrom(r *http.Request) Filter {
	q := r.URL.Query()
	return Filter{Path: q.Get("path"), ClientID: q.Get("client"), RequestID: q.Get("request_id")}
}

func (g *Gateway) listMessages(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"messages": g.Messages(filterFrom(r))})
}

func (g *Gateway) listDeliveries(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": g.Deliveries(filterFrom(r))})
}

// triggerRequest is the body of POST /_sandbox/gateway/deliveries.
type triggerRequest struct {
	ClientID  string          `json:"client_id"`
	Path      string          `json:"path"`
	HIPID     string          `json:"hip_id"`
	HIUID     string          `json:"hiu_id"`
	Body      json.RawMessage `json:"body"`
	RequestID string          `json:"request_id"`
	// Async answers 202 {"request_id"} at once instead of waiting for the
	// first attempt.
	Async bool `json:"async"`
}

func (g *Gateway) triggerDelivery(w http.ResponseWriter, r *http.Request) {
	var req triggerRequest
	if err := decodeStrict(r, &req); err != nil {
		controlError(w, http.StatusBadRequest, err)
		return
	}
	if len(req.Body) == 0 {
		req.Body = json.RawMessage("{}")
	}
	cb := Callback{ClientID: req.ClientID, Path: req.Path, HIPID: req.HIPID, HIUID: req.HIUID, Body: req.Body, RequestID: req.RequestID}
	if req.Async {
		if _, err := g.newDelivery(cb); err != nil { // report bad input now, not in the background
			controlError(w, http.StatusBadRequest, err)
			return
		}
		if cb.RequestID == "" {
			cb.RequestID = uuid.NewString()
		}
		g.goWorker(func(ctx context.Context) { _, _ = g.Deliver(ctx, cb) })
		writeJSON(w, http.StatusAccepted, map[string]string{"request_id": cb.RequestID})
		return
	}
	d, err := g.Deliver(r.Context(), cb)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, d)
	case d.RequestID != "":
		writeJSON(w, http.StatusBadGateway, map[string]any{"error": err.Error(), "delivery": d})
	default:
		controlError(w, http.StatusBadRequest, err)
	}
}

func (g *Gateway) redeliver(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ExpiredToken bool `json:"expired_token"`
	}
	if r.ContentLength != 0 {
		if err := decodeStrict(r, &req); err != nil {
			controlError(w, http.StatusBadRequest, err)
			return
		}
	}
	d, err := g.Redeliver(r.Context(), r.PathValue("request_id"), req.ExpiredToken)
	switch {
	case errors.Is(err, ErrUnknownDelivery):
		controlError(w, http.StatusNotFound, err)
	case err != nil:
		writeJSON(w, http.StatusBadGateway, map[string]any{"error": err.Error(), "delivery": d})
	default:
		writeJSON(w, http.StatusOK, d)
	}
}

// FaultsState is every fault set in force.
type FaultsState struct {
	Global  Faults            `json:"global"`
	Clients map[string]Faults `json:"clients"`
}

// Faults reports the fault sets in force, with their remaining counts.
func (g *Gateway) Faults() FaultsState {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := FaultsState{Global: g.globalFaults.clone(), Clients: make(map[string]Faults, len(g.clientFaults))}
	for id, f := range g.clientFaults {
		s.Clients[id] = f.clone()
	}
	return s
}

func (f Faults) clone() Faults {
	f.Paths = slices.Clone(f.Paths)
	return f
}

// SetFaults replaces the fault set of clientID, or the global set when
// clientID is "". A client with its own set ignores the global one.
func (g *Gateway) SetFaults(clientID string, f Faults) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("setting faults: %w", err)
	}
	if clientID != "" && g.clients[clientID] == nil {
		return fmt.Errorf("setting faults: unknown client %q", clientID)
	}
	f = f.clone()
	g.mu.Lock()
	defer g.mu.Unlock()
	if clientID == "" {
		g.globalFaults = f
	} else {
		g.clientFaults[clientID] = &f
	}
	return nil
}

// ClearFaults removes the fault set of clientID, or every set when
// clientID is "".
func (g *Gateway) ClearFaults(clientID string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if clientID == "" {
		g.globalFaults = Faults{}
		g.clientFaults = make(map[string]*Faults)
		return
	}
	delete(g.clientFaults, clientID)
}

func (g *Gateway) showFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, g.Faults())
}

func (g *Gateway) putFaults(w http.ResponseWriter, r *http.Request) {
	var f Faults
	if err := decodeStrict(r, &f); err != nil {
		controlError(w, http.StatusBadRequest, err)
		return
	}
	if err := g.SetFaults(r.PathValue("client"), f); err != nil {
		controlError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, f)
}

func (g *Gateway) deleteFaults(w http.ResponseWriter, r *http.Request) {
	g.ClearFaults(r.PathValue("client"))
	w.WriteHeader(http.StatusNoContent)
}

// ClientState is a client as the control API shows it (never its secret).
type ClientState struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	BridgeURL string    `json:"bridge_url"`
	Services  []Service `json:"services"`
}

// Clients lists the configured clients with their current bridge URLs.
func (g *Gateway) Clients() []ClientState {
	out := make([]ClientState, 0, len(g.cfg.Clients))
	for _, c := range g.cfg.Clients {
		url, _ := g.BridgeURL(c.ID)
		out = append(out, ClientState{ID: c.ID, Name: g.clients[c.ID].Name, BridgeURL: url, Services: slices.Clone(c.Services)})
	}
	return out
}

func (g *Gateway) listClients(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"clients": g.Clients()})
}

func (g *Gateway) revokeTokens(w http.ResponseWriter, r *http.Request) {
	if err := g.RevokeTokens(r.PathValue("client")); err != nil {
		controlError(w, http.StatusNotFound, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (g *Gateway) reset(w http.ResponseWriter, _ *http.Request) {
	g.Reset()
	w.WriteHeader(http.StatusNoContent)
}

// decodeStrict reads one JSON value, refusing unknown fields so a
// misspelt fault name is an error rather than silently ignored.
func decodeStrict(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decoding request body: %w", err)
	}
	return nil
}
