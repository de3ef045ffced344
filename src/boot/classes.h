/*
 * Classes (config `classes:`) and architecture overrides: which rules a
 * client's facts match. Pure: the same facts always match the same classes.
 */
#ifndef PXED_BOOT_CLASSES_H
#define PXED_BOOT_CLASSES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct conf_class;
struct boot_facts;

/* True when every condition set in the class's match holds for f. */
bool boot_class_matches(const struct conf_class *cl, const struct boot_facts *f);

/*
 * Fills out[] with the classes f matches, in config order, at most max.
 * Returns how many matched.
 */
size_t boot_classes_match(const struct conf *c, const struct boot_facts *f,
			  const struct conf_class **out, size_t max);

/* The architecture configured for mac's prefix (longest prefix wins); false if none. */
bool boot_arch_override(const struct conf *c, const uint8_t mac[6], uint16_t *arch);

#endif
