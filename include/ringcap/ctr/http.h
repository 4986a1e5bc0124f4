/*
 * Counters of the HTTP/1.x parser — part of the table in ringcap/counters.h. Every connection
 * given to rc_http_conn_new lands in http.conns, http.conns_filtered or http.alloc_failed; every
 * record written (or counted when there is no output) is one http.records.
 */
#define RC_CTRS_HTTP(X)                                                                         \
	X(HTTP_CONNS, "http.conns", RC_COUNTER, "connections",                                  \
	  "TCP connections handed to the HTTP parser (their content then decides)")             \
	X(HTTP_CONNS_FILTERED, "http.conns_filtered", RC_COUNTER, "connections",                \
	  "TCP connections not parsed because their responder port is not in the port list")    \
	X(HTTP_STREAMS_NOT_HTTP, "http.streams_not_http", RC_COUNTER, "connections",            \
	  "Connections whose first client bytes are not an HTTP method and a space")            \
	X(HTTP_REQUESTS, "http.requests", RC_COUNTER, "requests", "Requests begun (parsed)")    \
	X(HTTP_RESPONSES, "http.responses", RC_COUNTER, "responses",                            \
	  "Final (non-1xx, or 101) responses parsed to their end")                              \
	X(HTTP_INTERIM, "http.interim", RC_COUNTER, "responses",                                \
	  "Interim 1xx responses (100 Continue ...): they do not consume their request")        \
	X(HTTP_RECORDS, "http.records", RC_COUNTER, "records",                                  \
	  "Request records completed (one JSON line each when there is an output)")             \
	X(HTTP_PARSE_ERRORS, "http.parse_errors", RC_COUNTER, "directions",                     \
	  "Directions of detected HTTP connections stopped by a parse error")                   \
	X(HTTP_REQUESTS_WITH_GAPS, "http.requests_with_gaps", RC_COUNTER, "records",            \
	  "Records flagged gap: a request or response lost bytes to a reassembly gap")          \
	X(HTTP_GAPS_SKIPPED, "http.gaps.skipped", RC_COUNTER, "gaps",                           \
	  "Gaps inside a body of known extent, skipped over: parsing went on after them")       \
	X(HTTP_GAPS_STOPPED, "http.gaps.stopped", RC_COUNTER, "gaps",                           \
	  "Gaps outside a body of known extent: their direction stopped being parsed")          \
	X(HTTP_NO_RESPONSE, "http.no_response", RC_COUNTER, "records",                          \
	  "Records written without a final response")                                           \
	X(HTTP_NO_REQUEST, "http.no_request", RC_COUNTER, "records",                            \
	  "Records of responses that had no request to pair with")                              \
	X(HTTP_ROLES_SWAPPED, "http.roles_swapped", RC_COUNTER, "connections",                  \
	  "Connections whose flow originator turned out to be the HTTP server (picked up "      \
	  "mid-stream with a response first): client and server taken from the content")        \
	X(HTTP_UPGRADES, "http.upgrades", RC_COUNTER, "connections",                            \
	  "Connections that switched protocol (101, or 2xx to CONNECT): parsing stopped")       \
	X(HTTP_TRUNCATED, "http.truncated", RC_COUNTER, "records",                              \
	  "Records with a field value cut at its bound (flag truncated)")                       \
	X(HTTP_PENDING_OVERFLOW, "http.pending_overflow", RC_COUNTER, "connections",            \
	  "Connections with too many requests awaiting a response: responses no longer parsed") \
	X(HTTP_REQUEST_BODY_BYTES, "http.request_body_bytes", RC_COUNTER, "bytes",              \
	  "Request body bytes (de-chunked; bytes skipped over gaps included)")                  \
	X(HTTP_RESPONSE_BODY_BYTES, "http.response_body_bytes", RC_COUNTER, "bytes",            \
	  "Response body bytes (de-chunked; bytes skipped over gaps included)")                 \
	X(HTTP_BODIES_WRITTEN, "http.bodies.written", RC_COUNTER, "files",                      \
	  "Request body files written (--http-bodies)")                                         \
	X(HTTP_BODIES_ERRORS, "http.bodies.errors", RC_COUNTER, "files",                        \
	  "Request body files that could not be created or written in full")                    \
	X(HTTP_OUTPUT_ERRORS, "http.output_errors", RC_COUNTER, "records",                      \
	  "Records whose JSON line could not be written to the output")                         \
	X(HTTP_ALLOC_FAILED, "http.alloc_failed", RC_COUNTER, "events",                         \
	  "Connections or field bytes dropped for want of memory")
