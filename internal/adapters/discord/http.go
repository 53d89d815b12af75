package discord

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"
)

// ackDeadline is how long the endpoint waits for the first response
// before giving up on the request; Discord stops waiting at three seconds.
const ackDeadline = 2800 * time.Millisecond

// Handler serves POST /discord/interactions: it verifies the Ed25519
// signature and the timestamp window (401 otherwise), refuses bodies over
// 1 MiB (413), answers PING with PONG, and answers everything else within
// three seconds, finishing the work afterwards.
func (a *Adapter) Handler() http.Handler {
	return http.HandlerFunc(a.serveHTTP)
}

func (a *Adapter) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if a.pubKey == nil {
		http.Error(w, "the interactions endpoint is not configured", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading the request body", http.StatusBadRequest)
		return
	}
	if err := verify(a.pubKey, r.Header.Get("X-Signature-Ed25519"), r.Header.Get("X-Signature-Timestamp"), body, a.clock.Now()); err != nil {
		a.log.InfoContext(r.Context(), "refused an interaction", "reason", err.Error(), "remote", r.RemoteAddr)
		http.Error(w, "invalid request signature", http.StatusUnauthorized)
		return
	}
	it, err := decodeInteraction(body)
	if err != nil {
		a.log.InfoContext(r.Context(), "refused an interaction", "reason", err.Error())
		http.Error(w, "bad interaction", http.StatusBadRequest)
		return
	}
	if it.Type == itPing {
		writeResponse(w, response{Type: respPong})
		return
	}
	select {
	case a.sem <- struct{}{}:
	default:
		a.log.WarnContext(r.Context(), "too many interactions at once; refusing one", "interaction", it.ID)
		a.refused(it, start)
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	acks := make(chan response, 1)
	ack := func(_ context.Context, resp response) error {
		acks <- resp
		return nil
	}
	a.goSafe(a.base, "interaction", func() {
		defer func() { <-a.sem }()
		a.dispatch(a.base, it, ack)
	})
	t := time.NewTimer(ackDeadline)
	defer t.Stop()
	select {
	case resp := <-acks:
		writeResponse(w, resp)
	case <-t.C:
		a.log.ErrorContext(r.Context(), "no first response within the deadline", "interaction", it.ID)
		http.Error(w, "timed out", http.StatusServiceUnavailable)
	case <-r.Context().Done():
	}
}

func writeResponse(w http.ResponseWriter, resp response) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}
