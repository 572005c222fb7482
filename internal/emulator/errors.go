package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// apiError is an error in AWS's wire shape: a short code such as
// ResourceInUseException, a message and an HTTP status.
type apiError struct {
	Code    string
	Message string
	Status  int
	// raw is DynamoDB Local's own error body, passed on as is (it can carry more
	// than a message: CancellationReasons, Item).
	raw []byte
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(code string, status int, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...), Status: status}
}

func validation(format string, args ...any) *apiError {
	return errorf("ValidationException", http.StatusBadRequest, format, args...)
}

func resourceInUse(format string, args ...any) *apiError {
	return errorf("ResourceInUseException", http.StatusBadRequest, format, args...)
}

func tableNotFound(name string) *apiError {
	return errorf("ResourceNotFoundException", http.StatusBadRequest, "Requested resource not found: Table: %s not found", name)
}

func serializationError(err error) *apiError {
	return errorf("SerializationException", http.StatusBadRequest, "Start of structure or map found where not expected: %v", err)
}

// protocol says how errors are typed on the wire.
type protocol int

const (
	protoDynamoDB    protocol = iota // JSON 1.0, qualified __type
	protoStreams                     // JSON 1.0, qualified __type
	protoAutoScaling                 // JSON 1.1, bare __type
)

func (p protocol) contentType() string {
	if p == protoAutoScaling {
		return "application/x-amz-json-1.1"
	}
	return "application/x-amz-json-1.0"
}

func (p protocol) errorType(code string) string {
	switch p {
	case protoDynamoDB:
		if code == "ValidationException" {
			return "com.amazon.coral.validate#ValidationException"
		}
		return "com.amazonaws.dynamodb.v20120810#" + code
	case protoStreams:
		if code == "ValidationException" {
			return "com.amazon.coral.validate#ValidationException"
		}
		return "com.amazonaws.dynamodb.v20120810#" + code
	}
	return code
}

func writeError(w http.ResponseWriter, p protocol, e *apiError) {
	body := e.raw
	if body == nil {
		body, _ = json.Marshal(map[string]string{"__type": p.errorType(e.Code), "message": e.Message})
	}
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.Header().Set("Content-Type", p.contentType())
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// parseLocalError turns a DynamoDB Local error body into an apiError.
func parseLocalError(status int, body []byte) *apiError {
	var m map[string]string
	_ = json.Unmarshal(body, &m)
	code := m["__type"]
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	msg := m["message"]
	if msg == "" {
		msg = m["Message"]
	}
	if code == "" {
		code = "InternalServerError"
		msg = string(body)
	}
	return &apiError{Code: code, Message: msg, Status: status, raw: body}
}

// marshal encodes a front-built answer.
func marshal(v any) ([]byte, *apiError) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, errorf("InternalServerError", http.StatusInternalServerError, "encoding the answer: %v", err)
	}
	return b, nil
}

// tableNotFoundAsAWS gives a missing table's error AWS's message, "Requested
// resource not found: Table: NAME not found", in place of DynamoDB Local's "Cannot
// do operations on a non-existent table": hashicorp/aws's resourceTableDelete
// (internal/service/dynamodb/table.go) treats DeleteTable's ResourceNotFoundException
// as done only when it carries AWS's text, so a table deleted outside Terraform
// (TestAccDynamoDBTable_disappears) would otherwise fail its destroy.
func tableNotFoundAsAWS(req *request, e *apiError) *apiError {
	if e == nil || e.Code != "ResourceNotFoundException" {
		return e
	}
	var in struct {
		TableName string `json:"TableName"`
	}
	if json.Unmarshal(req.body, &in) != nil || in.TableName == "" || strings.Contains(in.TableName, ":") {
		return e
	}
	return tableNotFound(in.TableName)
}
