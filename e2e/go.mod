module github.com/kubelark/kubelark/e2e

go 1.26.8
