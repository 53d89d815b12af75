package main

import "context"

func runPipeline(ctx context.Context, o options, t tools, rep *report) section {
	sec := section{title: "2. Creation pipeline"}
	sec.note("not measured yet: needs lxcbot serve")
	return sec
}
func runList(ctx context.Context, o options, t tools, rep *report) section {
	sec := section{title: "3. /lxc list fan-out"}
	sec.note("not measured yet: needs lxcbot serve")
	return sec
}
func runEconomy(ctx context.Context, o options, t tools, rep *report) section {
	sec := section{title: "4. Chat API economy"}
	sec.note("not measured yet: needs lxcbot serve")
	return sec
}
func runMemory(ctx context.Context, o options, t tools, rep *report) section {
	sec := section{title: "5. Memory"}
	sec.note("not measured yet: needs lxcbot serve")
	return sec
}
