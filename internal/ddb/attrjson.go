package ddb

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ParseAttributeValueJSON reads one value in DynamoDB JSON, e.g. {"N":"2"} or
// {"M":{"a":{"SS":["x","y"]}}}. Numbers stay decimal strings and binary is base64,
// as in the DynamoDB API, so nothing is rounded.
func ParseAttributeValueJSON(s string) (types.AttributeValue, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return parseAV(raw)
}

func parseAV(raw json.RawMessage) (types.AttributeValue, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || len(m) != 1 {
		return nil, fmt.Errorf(`a DynamoDB JSON value is an object with one type key, such as {"S":"x"} or {"N":"1"}; got %s`, raw)
	}
	for typ, v := range m {
		switch typ {
		case "S":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, fmt.Errorf(`"S" takes a string: %w`, err)
			}
			return &types.AttributeValueMemberS{Value: s}, nil
		case "N":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, fmt.Errorf(`"N" takes the number as a string, e.g. {"N":"2"}: %w`, err)
			}
			if _, ok := new(big.Float).SetString(s); !ok {
				return nil, fmt.Errorf(`"N": %q is not a number`, s)
			}
			return &types.AttributeValueMemberN{Value: s}, nil
		case "B":
			b, err := parseB64(v)
			if err != nil {
				return nil, err
			}
			return &types.AttributeValueMemberB{Value: b}, nil
		case "BOOL":
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				return nil, fmt.Errorf(`"BOOL" takes true or false: %w`, err)
			}
			return &types.AttributeValueMemberBOOL{Value: b}, nil
		case "NULL":
			var b bool
			if err := json.Unmarshal(v, &b); err != nil || !b {
				return nil, fmt.Errorf(`"NULL" takes true`)
			}
			return &types.AttributeValueMemberNULL{Value: true}, nil
		case "SS", "NS":
			var ss []string
			if err := json.Unmarshal(v, &ss); err != nil || len(ss) == 0 {
				return nil, fmt.Errorf(`%q takes a non-empty list of strings`, typ)
			}
			if typ == "SS" {
				return &types.AttributeValueMemberSS{Value: ss}, nil
			}
			for _, n := range ss {
				if _, ok := new(big.Float).SetString(n); !ok {
					return nil, fmt.Errorf(`"NS": %q is not a number`, n)
				}
			}
			return &types.AttributeValueMemberNS{Value: ss}, nil
		case "BS":
			var list []json.RawMessage
			if err := json.Unmarshal(v, &list); err != nil || len(list) == 0 {
				return nil, fmt.Errorf(`"BS" takes a non-empty list of base64 strings`)
			}
			bs := make([][]byte, len(list))
			for i, e := range list {
				b, err := parseB64(e)
				if err != nil {
					return nil, err
				}
				bs[i] = b
			}
			return &types.AttributeValueMemberBS{Value: bs}, nil
		case "L":
			var list []json.RawMessage
			if err := json.Unmarshal(v, &list); err != nil {
				return nil, fmt.Errorf(`"L" takes a list of DynamoDB JSON values`)
			}
			out := make([]types.AttributeValue, len(list))
			for i, e := range list {
				av, err := parseAV(e)
				if err != nil {
					return nil, err
				}
				out[i] = av
			}
			return &types.AttributeValueMemberL{Value: out}, nil
		case "M":
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(v, &fields); err != nil {
				return nil, fmt.Errorf(`"M" takes an object of DynamoDB JSON values`)
			}
			names := make([]string, 0, len(fields))
			for k := range fields {
				names = append(names, k)
			}
			sort.Strings(names)
			out := make(map[string]types.AttributeValue, len(fields))
			for _, k := range names {
				av, err := parseAV(fields[k])
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				out[k] = av
			}
			return &types.AttributeValueMemberM{Value: out}, nil
		default:
			return nil, fmt.Errorf("unknown DynamoDB type %q (S, N, B, BOOL, NULL, SS, NS, BS, L or M)", typ)
		}
	}
	panic("unreachable")
}

func parseB64(v json.RawMessage) ([]byte, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, fmt.Errorf("binary takes a base64 string")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("binary %q is not base64: %w", s, err)
	}
	return b, nil
}

// FormatAttributeValueJSON writes av in compact DynamoDB JSON, with map keys sorted,
// the form Terraform's jsonencode produces, so a value read back matches its config.
func FormatAttributeValueJSON(av types.AttributeValue) (string, error) {
	v, err := avJSON(av)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(v) // encoding/json sorts map keys
	return string(b), err
}

func avJSON(av types.AttributeValue) (map[string]any, error) {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}, nil
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}, nil
	case *types.AttributeValueMemberB:
		return map[string]any{"B": base64.StdEncoding.EncodeToString(v.Value)}, nil
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}, nil
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}, nil
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}, nil
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}, nil
	case *types.AttributeValueMemberBS:
		out := make([]string, len(v.Value))
		for i, b := range v.Value {
			out[i] = base64.StdEncoding.EncodeToString(b)
		}
		return map[string]any{"BS": out}, nil
	case *types.AttributeValueMemberL:
		out := make([]any, len(v.Value))
		for i, e := range v.Value {
			j, err := avJSON(e)
			if err != nil {
				return nil, err
			}
			out[i] = j
		}
		return map[string]any{"L": out}, nil
	case *types.AttributeValueMemberM:
		out := make(map[string]any, len(v.Value))
		for k, e := range v.Value {
			j, err := avJSON(e)
			if err != nil {
				return nil, err
			}
			out[k] = j
		}
		return map[string]any{"M": out}, nil
	default:
		return nil, fmt.Errorf("unsupported attribute value %T", av)
	}
}
