package apitest

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
)

// webMessagePage is the page Auth0 serves for response_mode=web_message:
// it posts the authorization response to the window that opened it (a
// popup) or embeds it (a hidden iframe), for the redirect URI's origin
// only. html/template escapes both values for their script context.
var webMessagePage = template.Must(template.New("web_message").Parse(`<!DOCTYPE html>
<html>
<head><title>Authorization Response</title></head>
<body>
<script type="text/javascript">
(function (window) {
  var targetOrigin = {{.Origin}};
  var authorizationResponse = {type: "authorization_response", response: {{.Response}}};
  var mainWin = window.opener ? window.opener : window.parent;
  mainWin.postMessage(authorizationResponse, targetOrigin);
})(this);
</script>
</body>
</html>
`))

// postAuthorizationResponse answers with the web_message page that posts
// the values v (code, or error and error_description) and state to
// origin.
func postAuthorizationResponse(w http.ResponseWriter, origin string, v url.Values, state string) {
	res := map[string]string{}
	for k := range v {
		res[k] = v.Get(k)
	}
	if state != "" {
		res["state"] = state
	}
	var buf bytes.Buffer
	if err := webMessagePage.Execute(&buf, struct {
		Origin   string
		Response map[string]string
	}{origin, res}); err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "web_message page")
		return
	}
	writeHTML(w, http.StatusOK, buf.Bytes())
}

// formPostPage is the page Auth0 serves for response_mode=form_post: a
// form that posts the response to the redirect URI as soon as it loads.
var formPostPage = template.Must(template.New("form_post").Parse(`<!DOCTYPE html>
<html>
<head><title>Submit This Form</title></head>
<body onload="document.forms[0].submit()">
<form method="post" action="{{.Action}}">
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<noscript><button type="submit">Continue</button></noscript>
</form>
</body>
</html>
`))

// postForm answers with the form_post page that posts the values v
// (code, tokens, or error and error_description) and state to action.
func postForm(w http.ResponseWriter, action string, v url.Values, state string) {
	fields := map[string]string{}
	for k := range v {
		fields[k] = v.Get(k)
	}
	if state != "" {
		fields["state"] = state
	}
	var buf bytes.Buffer
	if err := formPostPage.Execute(&buf, struct {
		Action string
		Fields map[string]string
	}{action, fields}); err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "form_post page")
		return
	}
	writeHTML(w, http.StatusOK, buf.Bytes())
}

func writeHTML(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

var logoutPage = template.Must(template.New("logout").Parse(`<!DOCTYPE html>
<html><head><title>{{.Title}}</title></head><body><p>{{.Message}}</p></body></html>
`))

func writeLogoutPage(w http.ResponseWriter, status int, title, message string) {
	var buf bytes.Buffer
	logoutPage.Execute(&buf, struct{ Title, Message string }{title, message})
	writeHTML(w, status, buf.Bytes())
}

// serveLogout answers GET /v2/logout (and OIDC's /oidc/logout, whose
// returnTo is post_logout_redirect_uri, with state passed on): a redirect
// to returnTo when its origin is an allowed web origin, 400 when it is
// not, and a plain "signed out" page without returnTo. The tenant keeps no browser session, so
// there is nothing else to end: the login user goes on approving.
func (t *Tenant) serveLogout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "Method not allowed")
		return
	}
	q := r.URL.Query()
	if cid := q.Get("client_id"); cid != "" && cid != t.clientID {
		writeLogoutPage(w, http.StatusBadRequest, "Error", "invalid_request: Unknown client: "+cid)
		return
	}
	returnTo, param := q.Get("returnTo"), "returnTo"
	oidc := r.URL.Path == "/oidc/logout"
	if oidc {
		returnTo, param = q.Get("post_logout_redirect_uri"), "post_logout_redirect_uri"
	}
	if returnTo == "" {
		writeLogoutPage(w, http.StatusOK, "Signed out", "You are signed out.")
		return
	}
	u, err := url.Parse(returnTo)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !t.originAllowed(urlOrigin(u)) {
		writeLogoutPage(w, http.StatusBadRequest, "Error",
			`invalid_request: The "`+param+`" querystring parameter "`+returnTo+`" is not defined as a valid URL in "Allowed Logout URLs".`)
		return
	}
	if st := q.Get("state"); oidc && st != "" {
		uq := u.Query()
		uq.Set("state", st)
		u.RawQuery = uq.Encode()
	}
	w.Header().Set("Location", u.String())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}
