// Package gen holds the client that oapi-codegen generates from
// spec/current-user.yaml (client.gen.go), and the operation ids and table the
// guard routes by (operations.gen.go, from internal/optable).
//
// The generated files are never edited by hand: change the spec (through
// internal/spectrim's rules) or oapi-codegen.yaml and run go generate ./...
// (make generate); make check-generated proves the files match the spec.
// types.go is the one hand-written file: the UserID type the configuration
// names in place of the spec's string-or-integer schema.
//
// The generated types follow one convention (oapi-codegen.yaml): Go names
// (ID, UserID, LastIP), and plain values for optional fields, left out of
// JSON when zero; Auth0 does not tell null from absent in them. The one
// exception is GetUsersByIDParams, whose optional query parameters stay
// pointers because an absent include_fields and false differ.
package gen
