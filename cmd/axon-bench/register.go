package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// errRegistrationRefused marks registration failures that retrying can't fix;
// the run stops and main prints registrationHelp.
var errRegistrationRefused = errors.New("registration refused")

const registrationHelp = `axon-bench needs to create users on the homeserver. Either:
  - enable open registration on the server
      Axon:    set "registration.mode: open" in axon.yaml
      Synapse: enable_registration: true and enable_registration_without_verification: true
  - or pass --shared-secret S matching the server's shared registration secret
      Axon:    registration.shared_secret in axon.yaml
      Synapse: registration_shared_secret in homeserver.yaml
  - or pass --registration-token T if the server requires a registration token`

const (
	stageDummy = "m.login.dummy"
	stageToken = "m.login.registration_token"
	// maxUIASteps bounds the 401 round trips of one registration.
	maxUIASteps = 5
)

// uiaState is the body of a User-Interactive Auth 401.
type uiaState struct {
	Session   string                      `json:"session"`
	Flows     []struct{ Stages []string } `json:"flows"`
	Completed []string                    `json:"completed"`
}

// registerUIA registers username via POST /register, completing the UIA
// stages it can (dummy, and registration token when one is given). The
// returned response carries the summed latency of all round trips.
func (c *client) registerUIA(ctx context.Context, username, password, regToken string) (*account, response, error) {
	body := map[string]any{
		"username":                    username,
		"password":                    password,
		"initial_device_display_name": "axon-bench",
	}
	var total response
	for step := 0; step <= maxUIASteps; step++ {
		var acc account
		res, err := c.do(ctx, request{
			method: http.MethodPost, path: csPrefix + "/register",
			query: url.Values{"kind": {"user"}}, body: body, out: &acc,
		})
		total.latency += res.latency
		total.status = res.status
		if err == nil {
			return &acc, total, nil
		}
		ae := asAPIError(err)
		switch {
		case ae == nil:
			return nil, total, err
		case ae.Status == http.StatusForbidden:
			return nil, total, fmt.Errorf("%w: %v", errRegistrationRefused, ae)
		case ae.Status != http.StatusUnauthorized:
			return nil, total, err
		}
		var uia uiaState
		if json.Unmarshal(ae.body, &uia) != nil || len(uia.Flows) == 0 {
			return nil, total, fmt.Errorf("%w: 401 without UIA flows: %v", errRegistrationRefused, ae)
		}
		stage, err := nextStage(uia, regToken != "")
		if err != nil {
			return nil, total, err
		}
		auth := map[string]any{"type": stage, "session": uia.Session}
		if stage == stageToken {
			auth["token"] = regToken
		}
		body["auth"] = auth
	}
	return nil, total, fmt.Errorf("registration of %s not finished after %d UIA steps", username, maxUIASteps)
}

// nextStage picks the first flow made only of stages this tool can complete
// and returns its first stage not yet completed.
func nextStage(uia uiaState, haveToken bool) (string, error) {
	can := func(s string) bool { return s == stageDummy || (s == stageToken && haveToken) }
	var offered []string
	for _, f := range uia.Flows {
		offered = append(offered, strings.Join(f.Stages, " → "))
		if !slices.ContainsFunc(f.Stages, func(s string) bool { return !can(s) }) {
			for _, s := range f.Stages {
				if !slices.Contains(uia.Completed, s) {
					return s, nil
				}
			}
		}
	}
	return "", fmt.Errorf("%w: no registration flow this tool can complete (server offers: %s)",
		errRegistrationRefused, strings.Join(offered, "; "))
}
