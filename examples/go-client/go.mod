module plinth.example/go-client

go 1.19
