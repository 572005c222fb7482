package ddb

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestParseAttributeValueJSON(t *testing.T) {
	big := "12345678901234567890123456789012345678"
	cases := map[string]types.AttributeValue{
		`{"S":"x"}`:           &types.AttributeValueMemberS{Value: "x"},
		`{"S":""}`:            &types.AttributeValueMemberS{Value: ""},
		`{"N":"` + big + `"}`: &types.AttributeValueMemberN{Value: big},
		`{"N":"-1.50E+3"}`:    &types.AttributeValueMemberN{Value: "-1.50E+3"},
		`{"B":"AAEC"}`:        &types.AttributeValueMemberB{Value: []byte{0, 1, 2}},
		`{"BOOL":false}`:      &types.AttributeValueMemberBOOL{Value: false},
		`{"NULL":true}`:       &types.AttributeValueMemberNULL{Value: true},
		`{"SS":["a","b"]}`:    &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
		`{"NS":["1","2.5"]}`:  &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}},
		`{"BS":["AA=="]}`:     &types.AttributeValueMemberBS{Value: [][]byte{{0}}},
		`{"L":[{"S":"a"},{"N":"1"}]}`: &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: "a"}, &types.AttributeValueMemberN{Value: "1"}}},
		`{"M":{"k":{"M":{"n":{"NULL":true}}}}}`: &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"k": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"n": &types.AttributeValueMemberNULL{Value: true}}}}},
	}
	for in, want := range cases {
		got, err := ParseAttributeValueJSON(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", in, got, want)
		}
		// Written back, it reads the same.
		out, err := FormatAttributeValueJSON(got)
		if err != nil {
			t.Errorf("format %s: %v", in, err)
			continue
		}
		if again, err := ParseAttributeValueJSON(out); err != nil || !reflect.DeepEqual(again, want) {
			t.Errorf("round trip of %s via %s = %#v, %v", in, out, again, err)
		}
	}
	if got, _ := FormatAttributeValueJSON(&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"b": &types.AttributeValueMemberN{Value: "2"}, "a": &types.AttributeValueMemberS{Value: "x"}}}); got != `{"M":{"a":{"S":"x"},"b":{"N":"2"}}}` {
		t.Errorf("format sorts keys compactly like jsonencode: got %s", got)
	}
	for _, bad := range []string{`2`, `{"N":2}`, `{"N":"two"}`, `{"S":"a","N":"1"}`, `{"X":"a"}`, `{"B":"!!"}`, `{"SS":[]}`, `{"NULL":false}`, `{"S":"a"} {"S":"b"}`, `{"M":{"a":{"N":"x"}}}`} {
		if _, err := ParseAttributeValueJSON(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}
