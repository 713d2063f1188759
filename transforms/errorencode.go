package transforms

import "bytes"

// AppendErrorLine appends the last error-log line Process read, anonymized,
// in its server's own layout (no trailing newline).
func (w *Worker) AppendErrorLine(dst []byte) []byte {
	e, r := &w.Err, &w.Rec
	client := func(dst []byte) []byte {
		switch {
		case r.Network.IsValid():
			return r.Network.Addr().AppendTo(dst)
		case len(r.ClientDomain) > 0:
			return append(dst, r.ClientDomain...)
		}
		return append(dst, '-')
	}
	if e.Server == "apache" {
		dst = append(dst, '[')
		dst = append(dst, e.Time...)
		dst = append(dst, "] ["...)
		if len(e.Module) > 0 {
			dst = append(dst, e.Module...)
			dst = append(dst, ':')
		}
		dst = append(dst, e.Level...)
		dst = append(dst, ']')
		if len(e.Process) > 0 {
			dst = append(dst, " ["...)
			dst = append(dst, e.Process...)
			dst = append(dst, ']')
		}
		if e.HasClient {
			dst = append(dst, " [client "...)
			dst = client(dst)
			dst = append(dst, ']')
		}
		dst = append(dst, ' ')
		if len(e.Code) > 0 {
			dst = append(dst, e.Code...)
			dst = append(dst, ": "...)
		}
		dst = append(dst, e.Message...)
		if e.HasReferrer {
			dst = append(dst, ", referer: "...)
			dst = append(dst, r.ReferrerSite...)
		}
		return dst
	}
	dst = append(dst, e.Time...)
	dst = append(dst, " ["...)
	dst = append(dst, e.Level...)
	dst = append(dst, "] "...)
	if len(e.Process) > 0 {
		dst = append(dst, e.Process...)
		dst = append(dst, ' ')
	}
	dst = append(dst, e.Message...)
	if e.HasClient {
		dst = append(dst, ", client: "...)
		dst = client(dst)
	}
	if len(e.ServerName) > 0 {
		dst = append(dst, ", server: "...)
		dst = append(dst, e.ServerName...)
	}
	if e.HasRequest {
		dst = append(dst, ", request: \""...)
		dst = w.appendField(dst, r, fRequest)
		dst = append(dst, '"')
	}
	dst = append(dst, e.Extra...)
	if e.HasHost && len(r.Host) > 0 {
		dst = append(dst, ", host: \""...)
		dst = append(dst, r.Host...)
		dst = append(dst, '"')
	}
	if e.HasReferrer {
		dst = append(dst, ", referrer: \""...)
		dst = append(dst, r.ReferrerSite...)
		dst = append(dst, '"')
	}
	return dst
}

// AppendErrorJSON appends the last error-log line Process read as one JSON
// object (schema/error.v1.json; no trailing newline); id, when not empty,
// is its deterministic id.
func (w *Worker) AppendErrorJSON(dst []byte, id []byte) []byte {
	e, r := &w.Err, &w.Rec
	dst = append(dst, w.a.jsonPrefix...)
	if len(id) > 0 {
		dst = append(dst, `,"id":`...)
		dst = appendJSONString(dst, id)
	}
	dst = append(dst, `,"type":"error","server":"`...)
	dst = append(dst, e.Server...)
	dst = append(dst, `","time_local":`...)
	dst = appendJSONString(dst, e.Time)
	dst = appendJSONField(dst, "level", e.Level)
	if len(e.Module) > 0 {
		dst = appendJSONField(dst, "module", e.Module)
	}
	if len(e.Code) > 0 {
		dst = appendJSONField(dst, "code", e.Code)
	}
	if r.Network.IsValid() {
		dst = append(dst, `,"client_network":"`...)
		dst = appendPrefix(dst, r.Network)
		dst = append(dst, '"')
	}
	if e.HasClient {
		if r.Country != "" {
			dst = appendJSONField(dst, "country", r.Country)
		}
		if r.ASN != 0 {
			dst = append(dst, r.asnJSON...)
		}
	}
	if e.HasRequest {
		dst = appendJSONField(dst, "method", r.Method)
		dst = appendJSONField(dst, "path", r.Path)
		if len(r.Query) > 0 {
			dst = appendJSONField(dst, "query", r.Query)
		}
	}
	if e.HasHost && len(r.Host) > 0 {
		dst = appendJSONField(dst, "host", r.Host)
	} else if len(e.ServerName) > 0 {
		dst = appendJSONField(dst, "host", e.ServerName)
	}
	if len(r.ReferrerSite) > 0 {
		dst = appendJSONField(dst, "referrer_site", r.ReferrerSite)
	}
	dst = appendJSONField(dst, "message", e.Message)
	if len(e.Extra) > 0 {
		dst = appendJSONField(dst, "context", bytes.TrimPrefix(e.Extra, []byte(", ")))
	}
	return append(dst, '}')
}

// appendJSONField appends ,"key":"value" with value escaped.
func appendJSONField[S []byte | string](dst []byte, key string, value S) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	dst = append(dst, '"', ':')
	return appendJSONString(dst, value)
}
