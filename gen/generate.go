package gen

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config oapi-codegen.yaml ../spec/current-user.yaml
//go:generate go run github.com/auth0me/auth0me/internal/optable -o operations.gen.go ../spec/current-user.yaml
