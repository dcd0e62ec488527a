module zabsim

go 1.26
