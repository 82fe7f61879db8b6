package dev.machina.cli;

import dev.machina.vmm.packages.GuestPackage;
import dev.machina.vmm.packages.Recipe;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code guest build PACKAGE}: runs the package's recipe if its inputs changed or an output is not
 * as built, hashing every output (or always, with --force).
 */
@Command(name = "build", description = "Builds a package's artifacts into the build cache.")
final class BuildCommand implements Callable<Integer> {
    private final Environment environment;

    @Parameters(index = "0", paramLabel = "PACKAGE|DIR", description = "the package to build")
    private String target;

    @Option(names = "--force", description = "build even if the cached build is current")
    private boolean force;

    BuildCommand(Environment environment) {
        this.environment = environment;
    }

    @Override
    public Integer call() {
        GuestPackage guestPackage = environment.packages().locate(target);
        Optional<Recipe> recipe = guestPackage.recipe();
        if (recipe.isEmpty()) {
            environment.messages().println(guestPackage.name() + ": no recipe, nothing to build");
        } else if (!guestPackage.build(environment.messages()::println,
                force ? GuestPackage.Rebuild.ALWAYS : GuestPackage.Rebuild.WHEN_STALE_OR_CORRUPT)) {
            List<String> disks = recipe.get().disks();
            environment.messages().println(guestPackage.name() + ": up to date in " + guestPackage.outputDirectory()
                    + " (every output's SHA-256 as built" + (disks.isEmpty() ? "" : " but " + String.join(", ", disks)
                    + ", which the guest writes to") + ")");
        }
        return 0;
    }
}
