package plinth

import (
	"errors"
	"os"
	"testing"
	"time"
)

// The daemon's flow against a real `plinth serve`, whose URL and token come from the
// environment (the Rust test `go_client::the_go_client_passes_its_test` sets them):
//
//	PLINTH_URL      the server, e.g. http://127.0.0.1:7878
//	PLINTH_TOKEN    the server's token
//	PLINTH_PACKAGE  a signed .plinth package of example.word-count on the server
//	PLINTH_TENANT   the tenant to install it for (its trust store trusts the signer)
func env(t *testing.T, name string) string {
	value := os.Getenv(name)
	if value == "" {
		t.Skipf("%s is not set: this test runs against a real plinth serve", name)
	}
	return value
}

func TestDaemonFlow(t *testing.T) {
	client := &Client{Base: env(t, "PLINTH_URL"), Token: env(t, "PLINTH_TOKEN")}
	pkg := env(t, "PLINTH_PACKAGE")
	tenant := env(t, "PLINTH_TENANT")
	const id = "example.word-count"

	if err := client.CreateTenant(tenant); err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	installed, err := client.Install(tenant, pkg)
	if err != nil {
		t.Fatalf("install: %v", err)
	}
	if installed.ID != id || installed.Signer == nil || installed.Enabled {
		t.Fatalf("installed %+v", installed)
	}

	// Review: grant what is requested and usable, refuse the rest.
	review, err := client.Review(tenant, id)
	if err != nil {
		t.Fatalf("review: %v", err)
	}
	var approve []string
	for _, r := range review.Requested {
		if r.Granted {
			t.Fatalf("%s is granted before any review", r.Grant)
		}
		if r.Usable != nil && *r.Usable {
			approve = append(approve, r.Grant)
		}
	}
	if len(approve) != 1 || approve[0] != "log" {
		t.Fatalf("expected to approve [log], review says %+v", review.Requested)
	}
	if err := client.Grant(tenant, id, approve); err != nil {
		t.Fatalf("grant: %v", err)
	}
	if err := client.Enable(tenant, id); err != nil {
		t.Fatalf("enable: %v", err)
	}
	plugin, err := client.WaitReady(tenant, id, 30*time.Second)
	if err != nil {
		t.Fatalf("not ready: %v", err)
	}
	if plugin.Signature == nil || plugin.Signature.Status != "trusted" {
		t.Fatalf("signature %+v", plugin.Signature)
	}
	if len(plugin.Granted) != 1 || plugin.Granted[0] != "log" {
		t.Fatalf("granted %v", plugin.Granted)
	}

	// The transform: text in, a count out; bad input is a coded error.
	var counted struct {
		Words int `json:"words"`
	}
	if err := client.Tool(tenant, id, "word_count", map[string]string{"text": "one two three four"}, &counted); err != nil {
		t.Fatalf("tool: %v", err)
	}
	if counted.Words != 4 {
		t.Fatalf("counted %d words", counted.Words)
	}
	err = client.Tool(tenant, id, "word_count", map[string]int{"text": 7}, &counted)
	var refused *Error
	if !errors.As(err, &refused) || refused.Status != 400 || refused.Code() != "invalid-input" {
		t.Fatalf("bad input: %v", err)
	}

	// A request without the token changes nothing.
	anonymous := &Client{Base: client.Base}
	err = anonymous.Enable(tenant, id)
	if !errors.As(err, &refused) || refused.Status != 401 || refused.Code() != "unauthorized" {
		t.Fatalf("no token: %v", err)
	}

	metrics, err := client.Metrics(tenant, id)
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	if metrics["plinth_api_call_duration_seconds_count"] != 2 {
		t.Fatalf("API calls in the metrics: %v", metrics)
	}
	if metrics["plinth_api_call_errors_total"] != 1 {
		t.Fatalf("API errors in the metrics: %v", metrics)
	}
	if metrics["plinth_plugin_peak_memory_bytes"] <= 0 {
		t.Fatalf("peak memory in the metrics: %v", metrics)
	}
}
