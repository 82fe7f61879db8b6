package dev.machina.vmm.packages.debian;

import dev.machina.loader.ElfSections;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The kernel modules a guest's init loads, in an order where each comes after the modules it
 * needs. init loads them with {@code insmod}, which knows nothing of dependencies, and Debian's
 * kernel packages carry no {@code modules.dep} ({@code depmod} writes it when the package is
 * installed), so the dependencies come from each module's own {@code .modinfo} section, as depmod
 * reads them: an order written by hand in a recipe broke when a kernel update moved symbols
 * between modules (6.1.0-57 made {@code virtio} need {@code virtio_ring}). Modules are named as
 * the kernel names them, a dash and an underscore being the same.
 */
public final class KernelModules {
    private final Set<String> builtIn = new HashSet<>();
    private final Map<String, String> paths = new HashMap<>();
    private final Map<String, List<String>> dependencies = new HashMap<>();

    /** @param modulesBuiltin the text of the kernel's {@code modules.builtin}: a module file per line, built in */
    public KernelModules(String modulesBuiltin) {
        for (String line : modulesBuiltin.split("\n")) {
            if (!line.isBlank()) {
                builtIn.add(name(line.strip()));
            }
        }
    }

    /** The module a file holds: its name without directories, {@code .ko} and a compression suffix. */
    public static String name(String file) {
        String base = file.substring(file.lastIndexOf('/') + 1);
        int suffix = base.indexOf(".ko");
        return (suffix < 0 ? base : base.substring(0, suffix)).replace('-', '_');
    }

    /**
     * The modules a module file's {@code .modinfo} says it depends on. A compressed file's
     * sections cannot be read here: it is taken to need nothing.
     */
    public static List<String> dependencies(byte[] moduleFile) {
        List<String> needs = new ArrayList<>();
        ElfSections.contents(moduleFile, ".modinfo").ifPresent(modinfo -> {
            for (String field : new String(modinfo, StandardCharsets.UTF_8).split("\0")) {
                if (field.startsWith("depends=")) {
                    for (String module : field.substring("depends=".length()).split(",")) {
                        if (!module.isBlank()) {
                            needs.add(name(module.strip()));
                        }
                    }
                }
            }
        });
        return needs;
    }

    /** Adds the module file at {@code path}, which needs the modules {@code needs}. */
    public void add(String path, List<String> needs) {
        paths.put(name(path), path);
        dependencies.put(name(path), List.copyOf(needs));
    }

    /** The modules among {@code wanted} and those the added ones need that are neither added nor built in. */
    public Set<String> unknown(Collection<String> wanted) {
        Set<String> unknown = new LinkedHashSet<>();
        wanted.stream().map(KernelModules::name).forEach(unknown::add);
        dependencies.values().forEach(unknown::addAll);
        unknown.removeAll(paths.keySet());
        unknown.removeAll(builtIn);
        return unknown;
    }

    /**
     * The paths of the files to load for {@code wanted}, each after those of the modules it needs
     * (a dependency cycle is broken where it closes); built-in and unknown modules have none.
     */
    public List<String> loadOrder(List<String> wanted) {
        Set<String> order = new LinkedHashSet<>();
        for (String module : wanted) {
            visit(name(module), order, new HashSet<>());
        }
        return order.stream().map(paths::get).toList();
    }

    private void visit(String module, Set<String> order, Set<String> path) {
        if (order.contains(module) || !paths.containsKey(module) || !path.add(module)) {
            return;
        }
        for (String dependency : dependencies.get(module)) {
            visit(dependency, order, path);
        }
        order.add(module);
    }
}
