package gateway

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// updateBridgeURL answers PATCH /gateway/v3/bridge/url. The URL is the
// callback base; the last writer wins, per client id.
func (g *Gateway) updateBridgeURL(c *call) reply {
	var req struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal(c.body, &req); err != nil || checkBridgeURL(req.URL) != nil {
		return errReply(errInvalidBody)
	}
	g.mu.Lock()
	g.bridgeURL[c.clientID] = strings.TrimSuffix(req.URL, "/")
	g.mu.Unlock()
	return reply{status: http.StatusAccepted}
}

type bridgeJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	Active      bool   `json:"active"`
	Blocklisted bool   `json:"blocklisted"`
}

type serviceJSON struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Types     []string       `json:"types"`
	Endpoints map[string]any `json:"endpoints"`
	Active    bool           `json:"active"`
}

// listBridgeServices answers GET /gateway/v3/bridge-services for the
// calling client: its bridge (with the registered URL) and its services.
func (g *Gateway) listBridgeServices(c *call) reply {
	cl := g.clients[c.clientID]
	url, _ := g.BridgeURL(cl.ID)
	services := make([]serviceJSON, 0, len(cl.Services))
	for _, s := range cl.Services {
		types := slices.Clone(s.Types)
		if types == nil {
			types = []string{}
		}
		services = append(services, serviceJSON{
			ID: s.ID, Name: s.Name, Types: types, Endpoints: map[string]any{}, Active: !s.Inactive,
		})
	}
	return reply{status: http.StatusOK, body: map[string]any{
		"bridge":   bridgeJSON{ID: cl.ID, Name: cl.Name, URL: url, Active: true},
		"services": services,
	}}
}

// showService answers GET /gateway/v3/bridge-service/serviceId/{id} for any
// registered service. An unknown id gets 200 with an empty body, as
// observed on the sandbox.
func (g *Gateway) showService(c *call) reply {
	id := strings.TrimPrefix(c.path, pathServiceByID)
	n := 0
	for _, cfgClient := range g.cfg.Clients {
		for _, s := range cfgClient.Services {
			n++
			if s.ID != id {
				continue
			}
			created := formatTimestamp(g.started)
			return reply{status: http.StatusOK, body: map[string]any{
				"id":             n,
				"bridgeId":       cfgClient.ID,
				"serviceId":      s.ID,
				"name":           s.Name,
				"isHip":          slices.Contains(s.Types, TypeHIP),
				"isHiu":          slices.Contains(s.Types, TypeHIU),
				"isHealthLocker": slices.Contains(s.Types, TypeHealthLocker),
				"isPhr":          slices.Contains(s.Types, TypePHR),
				"active":         !s.Inactive,
				"registerTime":   created,
				"dateCreated":    created,
				"dateModified":   created,
				"endpoints":      map[string]any{},
			}}
		}
	}
	return reply{status: http.StatusOK}
}

// serviceAllowed reports whether clientID may speak for service id as one
// of the given types: it registered the service, the service is active
// and has one of the types.
func (g *Gateway) serviceAllowed(clientID, id string, types ...string) bool {
	cl := g.clients[clientID]
	if cl == nil {
		return false
	}
	for _, s := range cl.Services {
		if s.ID == id && !s.Inactive {
			for _, t := range types {
				if slices.Contains(s.Types, t) {
					return true
				}
			}
		}
	}
	return false
}
