package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubelark/kubelark/runtime"
)

// newPhasesCmd is `kubelark phases RECIPE`: the recipe's phase tree and
// parameters, read from its declarations without running it (kubeadm
// shows the same in `kubeadm init --help`).
func newPhasesCmd(a *app) *cobra.Command {
	var stdlibDir string
	cmd := &cobra.Command{
		Use:   "phases RECIPE",
		Short: "List a recipe's phases and parameters without running it",
		Long: `List the phases a recipe declares (select them with 'run --phases', skip
them with the recipe's skip flag) and its parameters with type, flag and
default. The recipe is executed only up to its declarations: no phase runs
and no builtin is called.`,
		Example: "  kubelark phases init\n  kubelark phases ./site/init.star --stdlib ./site/stdlib",
		Args:    cobra.ExactArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return runtime.EmbeddedRecipes(a.recipes), cobra.ShellCompDirectiveDefault
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := a.describe(cmd.Context(), args[0], stdlibDir, newRunCmd(a))
			if err != nil {
				return err
			}
			var b strings.Builder
			writeDescription(&b, d)
			_, err = a.stdout.Write([]byte(b.String()))
			return err
		},
	}
	cmd.Flags().StringVar(&stdlibDir, "stdlib", "", "load @stdlib// modules from this directory instead of the embedded stdlib")
	return cmd
}
