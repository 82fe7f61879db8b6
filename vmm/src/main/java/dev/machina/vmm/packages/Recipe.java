package dev.machina.vmm.packages;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

import java.nio.file.Path;
import java.util.List;

/**
 * How a package's artifacts are made, as its {@code recipe.json} says: an object whose
 * {@code "kind"} names one of these recipes and whose other keys are that recipe's. A recipe builds
 * into an output directory outside the repository, and is built again when its inputs change.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
@JsonSubTypes({
        @JsonSubTypes.Type(value = AssembleRecipe.class, name = AssembleRecipe.KIND),
        @JsonSubTypes.Type(value = DebianLinuxRecipe.class, name = DebianLinuxRecipe.KIND),
        @JsonSubTypes.Type(value = DebianSystemRecipe.class, name = DebianSystemRecipe.KIND)})
public sealed interface Recipe permits AssembleRecipe, DebianLinuxRecipe, DebianSystemRecipe {
    /** The files in the package directory the build reads; their contents decide whether a build is current. */
    List<String> inputs();

    /**
     * The revision of the builder of this kind: raised when the builder changes what it makes from
     * the same recipe (a fix), so that outputs built before are built again. Part of the inputs'
     * hash, like the recipe's text.
     */
    int builderRevision();

    /** The files the build writes into the output directory; a build missing one is not current. */
    List<String> outputs();

    /**
     * The outputs that are the guest's disks, which it writes to where they lie: that they differ
     * from what was built is no damage, so only a missing one is built again; and a build keeps one
     * the guest changed aside rather than deleting it (see {@link GuestPackage#build}).
     */
    default List<String> disks() {
        return List.of();
    }

    /**
     * Builds from {@code packageDirectory} into the empty {@code outputDirectory}, running each
     * step through {@code tools}, which reports it.
     *
     * @throws PackageException if a step fails, with what it printed
     */
    void build(Path packageDirectory, Path outputDirectory, Tools tools);
}
