package dev.machina.cpu.differential;

import java.util.List;

/**
 * A named group of templates that the generator draws from as one: it first picks a family, then
 * a template in it, so small families are not drowned by large ones.
 */
record Family(String name, List<Template> templates) {
    Family {
        templates = List.copyOf(templates);
    }
}
