// Package gen holds the client that oapi-codegen generates from
// spec/current-user.yaml, and the operation table the guard routes by.
//
// Nothing here is edited by hand: change the spec and run go generate ./...
// (make generate); make check-generated proves the files match the spec.
package gen
