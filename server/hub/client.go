package hub

import (
	"net"
	"net/http"
	"time"
)

// NewHTTPClient returns a client for large downloads: bounded time to
// connect and to get response headers, but no overall timeout, because a
// multi-gigabyte body may legitimately take an hour; stalls in the body are
// caught by Downloader.IdleTimeout instead. Redirects (the hub sends its
// files to a CDN) are followed, and Go drops the Authorization header when
// a redirect leaves the original host.
func NewHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   20 * time.Second,
		ResponseHeaderTimeout: time.Minute,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          8,
		ForceAttemptHTTP2:     true,
	}}
}
