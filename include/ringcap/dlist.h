/*
 * An intrusive doubly linked list kept in insertion order: the node lives inside the object
 * (struct rc_dlink), the list holds its two ends. O(1) append and remove, no allocation.
 * Single-threaded: whoever owns the objects owns the list.
 */
#ifndef RINGCAP_DLIST_H
#define RINGCAP_DLIST_H

#include <stddef.h>

struct rc_dlink {
	struct rc_dlink *prev, *next;
};

struct rc_dlist {
	struct rc_dlink *head, *tail; /* head: the oldest */
};

/* The object of type `type` whose member `member` is the node at p. */
#define rc_dlist_entry(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

/* The oldest object on list l, or NULL when it is empty. */
#define rc_dlist_first(l, type, member) ((l)->head ? rc_dlist_entry((l)->head, type, member) : NULL)

static inline void rc_dlist_append(struct rc_dlist *l, struct rc_dlink *n)
{
	n->next = NULL;
	n->prev = l->tail;
	if (l->tail)
		l->tail->next = n;
	else
		l->head = n;
	l->tail = n;
}

static inline void rc_dlist_remove(struct rc_dlist *l, struct rc_dlink *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		l->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		l->tail = n->prev;
	n->prev = n->next = NULL;
}

#endif
