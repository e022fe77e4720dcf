// Package plinth is a small client of the `plinth serve` HTTP API, written with the Go
// standard library only. It is shaped like a daemon written in Go that keeps its plugins in
// Plinth: it installs signed plugins per tenant, reviews and grants their capabilities,
// calls them and reads their metrics. See docs/serve.md for the API.
package plinth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to one `plinth serve`.
type Client struct {
	// Base is the server's URL, e.g. http://127.0.0.1:7878.
	Base string
	// Token is the content of <home>/serve.token; every state-changing request sends it.
	Token string
	// HTTP is the HTTP client used (http.DefaultClient when nil).
	HTTP *http.Client
}

// Diagnostic is one coded error, as `plinth --json` prints it.
type Diagnostic struct {
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Plugin   string `json:"plugin,omitempty"`
	Hint     string `json:"hint,omitempty"`
}

// Error is a refused request: its HTTP status and diagnostics.
type Error struct {
	Status      int
	Diagnostics []Diagnostic
}

func (e *Error) Error() string {
	if len(e.Diagnostics) == 0 {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	d := e.Diagnostics[0]
	return fmt.Sprintf("HTTP %d: %s: %s", e.Status, d.Code, d.Message)
}

// Code is the first diagnostic's code ("" when there is none).
func (e *Error) Code() string {
	if len(e.Diagnostics) == 0 {
		return ""
	}
	return e.Diagnostics[0].Code
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// do sends a request; `in` is the JSON body (nil for GET), `out` receives the JSON answer.
func (c *Client) do(method, path string, tenant string, in, out interface{}) error {
	target := strings.TrimRight(c.Base, "/") + path
	if tenant != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		target += sep + "tenant=" + url.QueryEscape(tenant)
	}
	var body io.Reader
	if method != http.MethodGet {
		if in == nil {
			in = struct{}{}
		}
		encoded, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(encoded)
	}
	request, err := http.NewRequest(method, target, body)
	if err != nil {
		return err
	}
	if method != http.MethodGet {
		request.Header.Set("Authorization", "Bearer "+c.Token)
		request.Header.Set("Content-Type", "application/json")
	}
	response, err := c.http().Do(request)
	if err != nil {
		return err
	}
	defer response.Body.Close()
	data, err := io.ReadAll(io.LimitReader(response.Body, 16<<20))
	if err != nil {
		return err
	}
	if response.StatusCode >= 300 {
		failure := &Error{Status: response.StatusCode}
		var decoded struct {
			Diagnostics []Diagnostic `json:"diagnostics"`
		}
		if json.Unmarshal(data, &decoded) == nil {
			failure.Diagnostics = decoded.Diagnostics
		}
		return failure
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// CreateTenant creates a tenant (its own plugins, state, grants and consent).
func (c *Client) CreateTenant(name string) error {
	return c.do(http.MethodPost, "/api/tenants", "", map[string]string{"name": name}, nil)
}

// Installed is what an install did.
type Installed struct {
	ID                    string   `json:"id"`
	Version               string   `json:"version"`
	Digest                string   `json:"digest"`
	Signer                *string  `json:"signer"`
	RequestedCapabilities []string `json:"requested_capabilities"`
	Enabled               bool     `json:"enabled"`
}

// Install verifies and installs a plugin for tenant: a folder or `.plinth` file on the
// server, `ID[@VERSION]` from the index, or `oci://…`. Signatures are required.
func (c *Client) Install(tenant, source string) (*Installed, error) {
	var out Installed
	err := c.do(http.MethodPost, "/api/plugins", tenant, map[string]interface{}{"source": source}, &out)
	return &out, err
}

// Requested is one capability a plugin's manifest requests, as the review shows it.
type Requested struct {
	Grant   string `json:"grant"`
	Granted bool   `json:"granted"`
	// Usable says whether the component's imports can use it at all (nil: unknown).
	Usable *bool `json:"usable"`
}

// Review is what an operator reviews before enabling a plugin.
type Review struct {
	ID          string      `json:"id"`
	Requested   []Requested `json:"requested"`
	Unrequested []string    `json:"unrequested"`
	Granted     []string    `json:"granted"`
	Imports     []struct {
		Name       string  `json:"name"`
		Provided   bool    `json:"provided"`
		Capability *string `json:"capability"`
	} `json:"imports"`
}

// Review reads the grant review of plugin id.
func (c *Client) Review(tenant, id string) (*Review, error) {
	var out Review
	err := c.do(http.MethodGet, "/api/plugins/"+url.PathEscape(id)+"/review", tenant, nil, &out)
	return &out, err
}

// Grant grants capabilities (grant strings such as "log" or "http:api.example.com").
func (c *Client) Grant(tenant, id string, grants []string) error {
	return c.do(http.MethodPost, "/api/plugins/"+url.PathEscape(id)+"/grant", tenant, map[string]interface{}{"grants": grants}, nil)
}

// Enable enables plugin id.
func (c *Client) Enable(tenant, id string) error {
	return c.do(http.MethodPost, "/api/plugins/"+url.PathEscape(id)+"/enable", tenant, nil, nil)
}

// Plugin is a plugin as the API shows it.
type Plugin struct {
	ID      string   `json:"id"`
	Version string   `json:"version"`
	Enabled bool     `json:"enabled"`
	Kinds   []string `json:"kinds"`
	Status  struct {
		State      string      `json:"state"`
		Diagnostic *Diagnostic `json:"diagnostic"`
	} `json:"status"`
	Signature *struct {
		Status string `json:"status"`
	} `json:"signature"`
	Requested []string `json:"requested"`
	Granted   []string `json:"granted"`
}

// Show reads plugin id.
func (c *Client) Show(tenant, id string) (*Plugin, error) {
	var out Plugin
	err := c.do(http.MethodGet, "/api/plugins/"+url.PathEscape(id), tenant, nil, &out)
	return &out, err
}

// WaitReady polls plugin id until it is ready, fails, or `within` has passed.
func (c *Client) WaitReady(tenant, id string, within time.Duration) (*Plugin, error) {
	deadline := time.Now().Add(within)
	for {
		plugin, err := c.Show(tenant, id)
		if err != nil {
			return nil, err
		}
		switch plugin.Status.State {
		case "ready":
			return plugin, nil
		case "error":
			if plugin.Status.Diagnostic != nil {
				return plugin, &Error{Status: 409, Diagnostics: []Diagnostic{*plugin.Status.Diagnostic}}
			}
		}
		if time.Now().After(deadline) {
			return plugin, fmt.Errorf("%s is %s after %s", id, plugin.Status.State, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Tool calls tool `name` of plugin id with `input`; its output is decoded into `out`.
func (c *Client) Tool(tenant, id, name string, input, out interface{}) error {
	var answer struct {
		Result json.RawMessage `json:"result"`
	}
	if err := c.do(http.MethodPost, "/api/plugins/"+url.PathEscape(id)+"/tools/"+url.PathEscape(name), tenant, input, &answer); err != nil {
		return err
	}
	return json.Unmarshal(answer.Result, out)
}

// Metrics reads the Prometheus text of `GET /metrics` and returns the value of each
// sample whose labels include tenant and plugin, by metric name.
func (c *Client) Metrics(tenant, plugin string) (map[string]float64, error) {
	response, err := c.http().Get(strings.TrimRight(c.Base, "/") + "/metrics")
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	data, err := io.ReadAll(io.LimitReader(response.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if response.StatusCode != http.StatusOK {
		return nil, &Error{Status: response.StatusCode}
	}
	labels := fmt.Sprintf(`tenant="%s",plugin="%s"`, tenant, plugin)
	values := map[string]float64{}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "#") || !strings.Contains(line, labels) {
			continue
		}
		open := strings.Index(line, "{")
		space := strings.LastIndex(line, " ")
		if open < 0 || space < 0 {
			continue
		}
		var value float64
		if _, err := fmt.Sscan(line[space+1:], &value); err != nil {
			continue
		}
		name := line[:open]
		if rest := line[open:space]; strings.Contains(rest, "le=") {
			// Histogram buckets are keyed by their bound.
			name += rest[strings.Index(rest, "le="):]
		}
		values[name] = value
	}
	return values, nil
}
