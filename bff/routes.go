package bff

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/auth0me/auth0me/api"
)

// A routeFunc serves one route for c's user. It returns the status and the
// value to answer with, or an error: an *Error, or one of package api's,
// which the caller maps.
type routeFunc func(h *Handler, c *call) (int, any, error)

var handlers = map[Route]routeFunc{
	ReadProfile:            (*Handler).readProfile,
	ReadEnrollments:        (*Handler).readEnrollments,
	WriteMetadata:          (*Handler).writeMetadata,
	LinkIdentity:           (*Handler).linkIdentity,
	UnlinkIdentity:         (*Handler).unlinkIdentity,
	CreateDeviceCredential: (*Handler).createDeviceCredential,
	DeleteDeviceCredential: (*Handler).deleteDeviceCredential,
}

// call is one request of a signed-in user.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	view  *api.Client
	sub   string
	audit []slog.Attr // what the audit line adds about the change
}

func (c *call) ctx() context.Context { return c.r.Context() }

// route wraps fn with what every route does: the cross-origin check for
// state-changing routes, finding the user, mapping errors, writing the
// answer and the audit line.
func (h *Handler) route(rt Route, fn routeFunc) http.Handler {
	changes := rt != ReadProfile && rt != ReadEnrollments
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		c := &call{w: w, r: r}
		status, body, err := h.serve(c, changes, fn)
		outcome := "ok"
		if err != nil {
			e := toError(err)
			status, outcome = e.Status, e.Code
			writeError(w, e)
		} else {
			writeJSON(w, status, body)
		}
		if changes && h.logger != nil {
			attrs := append([]slog.Attr{
				slog.String("user", c.sub),
				slog.String("route", string(rt)),
				slog.String("outcome", outcome),
				slog.Int("status", status),
				slog.Duration("duration", time.Since(start)),
			}, c.audit...)
			h.logger.LogAttrs(r.Context(), slog.LevelInfo, "bff: audit", attrs...)
		}
	})
}

func (h *Handler) serve(c *call, changes bool, fn routeFunc) (int, any, error) {
	if changes {
		if h.csrf.Check(c.r) != nil {
			return 0, nil, errCrossOrigin
		}
	}
	ts, err := h.user(c.r)
	if err != nil || ts == nil {
		return 0, nil, errUnauthorized
	}
	c.view = h.client.ForToken(ts)
	claims, err := c.view.Claims(c.ctx())
	if err != nil {
		return 0, nil, err
	}
	c.sub = claims.Subject
	return fn(h, c)
}

// spend takes one call from the user's allowance, or refuses with 429. It
// comes after every check of the Handler's own and right before the call
// to the Client, whose own refusals (the guard's, invalid arguments) cost
// the allowance too.
func (h *Handler) spend(c *call) error {
	if wait, ok := h.limits.take(c.sub, time.Now()); !ok {
		return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
			Message: "too many requests for this user; retry later", retryAfter: wait}
	}
	return nil
}

// readJSON reads the request body, which must be application/json of at
// most maxBody bytes.
func (h *Handler) readJSON(c *call) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "the body must be application/json"}
	}
	b, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, h.maxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "the body is too large"}
	case err != nil:
		return nil, invalidRequest("the body could not be read")
	}
	return b, nil
}

// decodeStrict decodes the body into v, refusing unknown fields and
// anything after the value.
func (h *Handler) decodeStrict(c *call, v any) error {
	b, err := h.readJSON(c)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalidRequest("the body is not the JSON object this route takes: " + jsonReason(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalidRequest("the body has data after its JSON value")
	}
	return nil
}

func (h *Handler) readProfile(c *call) (int, any, error) {
	if err := h.spend(c); err != nil {
		return 0, nil, err
	}
	u, err := c.view.Me(c.ctx())
	if err != nil {
		return 0, nil, err
	}
	p, err := h.policy.profile(u)
	return http.StatusOK, p, err
}

// enrollmentFields are the fields of an enrollment answered.
var enrollmentFields = []string{"id", "status", "type", "name", "identifier", "phone_number", "auth_method", "enrolled_at", "last_auth"}

func (h *Handler) readEnrollments(c *call) (int, any, error) {
	if err := h.spend(c); err != nil {
		return 0, nil, err
	}
	es, err := c.view.Enrollments(c.ctx())
	if err != nil {
		return 0, nil, err
	}
	out, err := pickEach(es, enrollmentFields)
	return http.StatusOK, out, err
}

func (h *Handler) writeMetadata(c *call) (int, any, error) {
	b, err := h.readJSON(c)
	if err != nil {
		return 0, nil, err
	}
	ch, err := h.policy.check(b)
	if err != nil {
		return 0, nil, err
	}
	c.audit = ch.auditAttrs(h.loggedValues)
	if err := h.spend(c); err != nil {
		return 0, nil, err
	}
	u, err := c.view.UpdateMetadata(c.ctx(), ch.patch)
	if err != nil {
		return 0, nil, err
	}
	p, err := h.policy.profile(u)
	return http.StatusOK, p, err
}

func (h *Handler) linkIdentity(c *call) (int, any, error) {
	var in struct {
		IDToken string `json:"id_token"`
	}
	if err := h.decodeStrict(c, &in); err != nil {
		return 0, nil, err
	}
	if in.IDToken == "" {
		return 0, nil, invalidRequest("id_token is required")
	}
	if err := h.spend(c); err != nil {
		return 0, nil, err
	}
	ids, err := c.view.LinkIdentity(c.ctx(), in.IDToken)
	if err != nil {
		return 0, nil, err
	}
	out, err := pickEach(ids, identityFields)
	return http.StatusOK, out, err
}

func (h *Handler) unlinkIdentity(c *call) (int, any, error) {
	provider, userID := c.r.PathValue("provider"), c.r.PathValue("user_id")
	c.audit = []slog.Attr{slog.String("provider", provider), slog.String("user_id", userID)}
	if err := h.spend(c); err != nil {
		return 0, nil, err
	}
	ids, err := c.view.UnlinkIdentity(c.ctx(), provider, userID)
	if err != nil {
		return 0, nil, err
	}
	out, err := pickEach(ids, identityFields)
	return http.StatusOK, out, err
}

func (h *Handler) createDeviceCredential(c *call) (int, any, error) {
	var in struct {
		DeviceName string `json:"device_name"`
		DeviceID   string `json:"device_id"`
		Value      string `json:"value"`
	}
	if err := h.decodeStrict(c, &in); err != nil {
		return 0, nil, err
	}
	c.audit = []slog.Attr{slog.String("device_id", in.DeviceID)}
	dc := api.DeviceCredential{DeviceName: in.DeviceName, DeviceID: in.DeviceID, Value: in.Value}
	if err := h.spend(c); err != nil {
		return 0, nil, err
	}
	id, err := c.view.CreateDeviceCredential(c.ctx(), dc)
	if err != nil {
		return 0, nil, err
	}
	c.audit = append(c.audit, slog.String("id", id))
	return http.StatusCreated, map[string]string{"id": id}, nil
}

func (h *Handler) deleteDeviceCredential(c *call) (int, any, error) {
	id := c.r.PathValue("id")
	c.audit = []slog.Attr{slog.String("id", id)}
	if err := h.spend(c); err != nil {
		return 0, nil, err
	}
	if err := c.view.DeleteDeviceCredential(c.ctx(), id); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
